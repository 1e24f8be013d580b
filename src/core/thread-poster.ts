import type { MessageRef, OutgoingMessage, ThreadRef } from './ports/chat-adapter.ts';
import type { PostKey } from './session.ts';
import type { SessionStore } from './ports/session-store.ts';
import { postKeyString } from './ports/session-store.ts';
import type { AdapterDirectory, Clock, Logger } from './runtime.ts';
import type { CoreMetrics } from './ports/metrics.ts';

/**
 * Posting into threads exactly once, and editing live messages without flooding the platform.
 *
 * - `postOnce`: claims the item's key in the store (SET NX) before posting and records the
 *   message ref after, so a retried job, a duplicated queue event or a second bot process never
 *   posts it again. If posting fails the claim is released so a later retry can post.
 * - `live`: one message per key (progress, vote tally) edited in place at most once per
 *   `editIntervalMs`; intermediate states are dropped, the latest state is always sent, and a
 *   `final` state is guaranteed to go out even if it arrives inside the interval. A state whose
 *   files differ from the ones the message carries (a job's newest preview) goes out through the
 *   adapter's `replace`, which swaps the files; text-only changes stay plain edits.
 */

interface LiveEntry {
  key: PostKey;
  thread: ThreadRef;
  ref: MessageRef | null;
  desired: OutgoingMessage | null;
  sentJson: string | null;
  /** The files the message carries, as `filesOf` writes them; null: not known (found after a restart). */
  sentFiles: string | null;
  lastAt: number;
  timer: unknown;
  busy: boolean;
  final: boolean;
  lookups: number;
  failures: number;
  /** Run (and awaited inside the tracked pump) once the entry is retired: was the final state sent? */
  waiters: Array<(sent: boolean) => Promise<void> | void>;
}

function newEntry(key: PostKey, thread: ThreadRef, desired: OutgoingMessage | null): LiveEntry {
  return { key, thread, ref: null, desired, sentJson: null, sentFiles: null, lastAt: Number.NEGATIVE_INFINITY, timer: null, busy: false, final: false, lookups: 0, failures: 0, waiters: [] };
}

export interface ThreadPosterDeps {
  store: SessionStore;
  adapters: AdapterDirectory;
  clock: Clock;
  log: Logger;
  editIntervalMs: number;
  /** Counts each post or edit the platform refused or that failed on the way. */
  metrics?: Pick<CoreMetrics, 'postFailed'>;
}

const MAX_REF_LOOKUPS = 5;

/** The files a message carries, by artifact key, for telling a file change from a text edit. */
function filesOf(message: OutgoingMessage): string {
  return (message.attachments ?? []).map((a) => a.key).join('\n');
}
const MAX_FAILURES = 5;

export class ThreadPoster {
  private readonly live = new Map<string, LiveEntry>();
  private readonly inflight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly deps: ThreadPosterDeps) {}

  private adapterFor(thread: ThreadRef) {
    const adapter = this.deps.adapters(thread.platform);
    if (!adapter) throw new Error(`no chat adapter for platform ${thread.platform}`);
    return adapter;
  }

  maxUploadBytes(thread: ThreadRef): number {
    return this.adapterFor(thread).maxUploadBytesFor(thread);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => {});
    return p;
  }

  /** Posts `build()` once per key; returns the ref (new or earlier), or null if someone else holds the claim. */
  async postOnce(thread: ThreadRef, key: PostKey, build: () => Promise<OutgoingMessage> | OutgoingMessage): Promise<MessageRef | null> {
    return (await this.track(this.claimAndPost(thread, key, build))).ref;
  }

  private async claimAndPost(thread: ThreadRef, key: PostKey, build: () => Promise<OutgoingMessage> | OutgoingMessage): Promise<{ ref: MessageRef | null; posted: boolean }> {
    const claim = await this.deps.store.claimPost(key);
    if (!claim.claimed) return { ref: claim.ref, posted: false };
    try {
      const message = await build();
      const ref = await this.adapterFor(thread).post(thread, message, { key: postKeyString(key) });
      await this.deps.store.recordPost(key, ref);
      return { ref, posted: true };
    } catch (error) {
      this.deps.metrics?.postFailed(thread.platform);
      await this.deps.store.releasePost(key).catch(() => {});
      throw error;
    }
  }

  /**
   * Posts the first state of a live message right away (awaited, so later posts in the thread
   * come after it); after a restart this finds the earlier post and edits that one instead.
   */
  async openLive(thread: ThreadRef, key: PostKey, message: OutgoingMessage): Promise<void> {
    const id = postKeyString(key);
    if (this.live.has(id)) return this.setLive(thread, key, message);
    const entry = newEntry(key, thread, message);
    this.live.set(id, entry);
    await this.track(this.pump(id, entry));
  }

  /** Sets the latest state of a live message; see the class comment for the timing rules. */
  setLive(thread: ThreadRef, key: PostKey, message: OutgoingMessage, final = false): void {
    const id = postKeyString(key);
    let entry = this.live.get(id);
    if (!entry) {
      entry = newEntry(key, thread, null);
      this.live.set(id, entry);
    }
    if (entry.final && !final) return;
    entry.desired = message;
    entry.final ||= final;
    this.schedule(id, entry);
  }

  private schedule(id: string, entry: LiveEntry): void {
    if (entry.busy || entry.timer !== null || this.stopped) return;
    const wait = entry.lastAt + this.deps.editIntervalMs - this.deps.clock.now();
    if (wait <= 0) {
      void this.track(this.pump(id, entry));
      return;
    }
    entry.timer = this.deps.clock.setTimeout(() => {
      entry.timer = null;
      void this.track(this.pump(id, entry));
    }, wait);
  }

  private async pump(id: string, entry: LiveEntry): Promise<void> {
    if (entry.busy) return;
    entry.busy = true;
    const message = entry.desired;
    try {
      if (message) {
        const json = JSON.stringify(message);
        if (!entry.ref) await this.resolveRef(entry, message, json);
        else if (json !== entry.sentJson) {
          entry.lastAt = this.deps.clock.now();
          const files = filesOf(message);
          if (files !== entry.sentFiles) {
            // The ref may change (Slack's new file ids): kept, so a restart replaces the right files.
            const ref = await this.adapterFor(entry.thread).replace(entry.ref, message);
            if (JSON.stringify(ref) !== JSON.stringify(entry.ref)) await this.deps.store.recordPost(entry.key, ref);
            entry.ref = ref;
            entry.sentFiles = files;
          } else await this.adapterFor(entry.thread).edit(entry.ref, message);
          entry.sentJson = json;
        }
      }
    } catch (error) {
      entry.failures++;
      this.deps.metrics?.postFailed(entry.thread.platform);
      this.deps.log.warn(`could not update message ${id}`, error);
    } finally {
      entry.busy = false;
    }
    const pending = entry.desired !== null && JSON.stringify(entry.desired) !== entry.sentJson;
    const gaveUp = (entry.ref === null && entry.lookups >= MAX_REF_LOOKUPS) || entry.failures >= MAX_FAILURES;
    if (pending && !gaveUp) this.schedule(id, entry);
    else if (entry.final || gaveUp) await this.retire(id, entry, !pending);
  }

  private async retire(id: string, entry: LiveEntry, sent: boolean): Promise<void> {
    if (this.live.get(id) === entry) this.live.delete(id);
    for (const then of entry.waiters.splice(0)) {
      try {
        await then(sent);
      } catch (error) {
        this.deps.log.warn(`after message ${id}`, error);
      }
    }
  }

  /**
   * Runs `then(sent)` once the live message's final state has gone out (true), or the poster
   * gave up on it or stopped (false); at once (true) for a key with nothing pending. It runs
   * inside the poster's own tracked work, so `idle()` covers it, and callers never wait on the
   * edit throttle.
   */
  whenSettled(key: PostKey, then: (sent: boolean) => Promise<void> | void): void {
    const entry = this.live.get(postKeyString(key));
    if (entry) entry.waiters.push(then);
    else void this.track(Promise.resolve().then(() => then(true))).catch((error: unknown) => this.deps.log.warn(`after message ${postKeyString(key)}`, error));
  }

  /** First use posts the message (or finds an earlier post's ref); later uses look the ref up again. */
  private async resolveRef(entry: LiveEntry, message: OutgoingMessage, json: string): Promise<void> {
    entry.lastAt = this.deps.clock.now();
    if (entry.lookups === 0) {
      const { ref, posted } = await this.claimAndPost(entry.thread, entry.key, () => message);
      entry.lookups++;
      entry.ref = ref;
      if (posted) {
        entry.sentJson = json;
        entry.sentFiles = filesOf(message);
      }
      return;
    }
    entry.lookups++;
    entry.ref = await this.deps.store.getPost(entry.key);
  }

  /** Resolves when every post and edit started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Sends pending final states now and stops scheduling. */
  async stop(): Promise<void> {
    for (const [id, entry] of this.live) {
      if (entry.timer !== null) {
        this.deps.clock.clearTimeout(entry.timer);
        entry.timer = null;
        if (entry.final) void this.track(this.pump(id, entry));
      }
    }
    this.stopped = true;
    await this.idle();
    for (const [id, entry] of this.live) if (entry.waiters.length > 0) await this.retire(id, entry, false);
  }
}
