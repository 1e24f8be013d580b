import type { Logger } from '../../src/core/runtime.ts';
import { clip } from '../../src/core/text.ts';

/**
 * Thread renames, coalesced per thread. Discord lets a thread be renamed only twice in ten minutes
 * (a sublimit of PATCH /channels/{id} with `name`), and a session can make versions faster than
 * that. So each thread keeps only its newest wanted name and sends it once the window allows,
 * counted from the renames this process sent, and from a 429's retry_after for the ones it cannot
 * know of (sent before a restart). A name still waiting is replaced by a newer one, never sent
 * after it, and nobody waits for the window: `want` returns at once.
 */

/** Discord's documented limit for renaming a channel or thread. */
export const RENAMES_PER_WINDOW = 2;
export const RENAME_WINDOW_MS = 10 * 60_000;

/** Discord's thread names are 1–100 characters. */
export const THREAD_NAME_MAX = 100;

/**
 * A heading's title as a thread name: one line, at most THREAD_NAME_MAX UTF-16 units, cut between
 * characters (never inside an emoji); '' when nothing is left.
 */
export function threadNameOf(title: string): string {
  let name = clip(title.replace(/\s+/g, ' ').trim(), THREAD_NAME_MAX);
  while (name.length > THREAD_NAME_MAX) name = clip(name, [...name].length - 1);
  return name;
}

export interface ThreadRenamesOptions {
  /** Sends one rename; rejects with what `retryAfterMs` reads a 429 from. */
  send(threadId: string, name: string): Promise<void>;
  /** Milliseconds a failed send says to wait (a 429), or null for any other failure (dropped, logged). */
  retryAfterMs(error: unknown): number | null;
  log: Logger;
  windowMs?: number;
  now?: () => number;
}

interface Lane {
  /** The newest name asked for and not yet sent. */
  wanted?: string;
  /** The last name Discord accepted from this process. */
  applied?: string;
  /** When this process's renames inside the window were sent. */
  sent: number[];
  /** Set from a 429: no rename before then. */
  blockedUntil: number;
  busy: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

export class ThreadRenames {
  private readonly lanes = new Map<string, Lane>();
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ThreadRenamesOptions) {
    this.windowMs = options.windowMs ?? RENAME_WINDOW_MS;
    this.now = options.now ?? Date.now;
  }

  want(threadId: string, name: string): void {
    let lane = this.lanes.get(threadId);
    if (!lane) this.lanes.set(threadId, (lane = { sent: [], blockedUntil: 0, busy: false }));
    lane.wanted = name;
    this.pump(threadId, lane);
  }

  /** Drops every waiting name and timer (the adapter stopped). */
  clear(): void {
    for (const lane of this.lanes.values()) clearTimeout(lane.timer);
    this.lanes.clear();
  }

  private pump(threadId: string, lane: Lane): void {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    // A send in flight pumps again when it ends, with whatever is newest then.
    if (lane.busy || this.lanes.get(threadId) !== lane) return;
    const now = this.now();
    lane.sent = lane.sent.filter((at) => at > now - this.windowMs);
    if (lane.wanted === lane.applied) lane.wanted = undefined;
    const full = lane.sent.length >= RENAMES_PER_WINDOW ? lane.sent[0]! + this.windowMs : 0;
    if (lane.wanted === undefined) {
      // Kept while its renames still count against the window, then forgotten.
      const until = Math.max(lane.blockedUntil, lane.sent.length > 0 ? lane.sent[0]! + this.windowMs : 0);
      if (until > now) this.later(threadId, lane, until - now);
      else this.lanes.delete(threadId);
      return;
    }
    const freeAt = Math.max(lane.blockedUntil, full);
    if (freeAt > now) return this.later(threadId, lane, freeAt - now);
    const name = lane.wanted;
    lane.wanted = undefined;
    lane.busy = true;
    lane.sent.push(now);
    void this.options
      .send(threadId, name)
      .then(
        () => {
          lane.applied = name;
          // Discord counts the rename when it arrives, somewhere before its answer: counting the
          // window from the answer never opens it early (from the send, a slow request would).
          const at = lane.sent.indexOf(now);
          if (at >= 0) lane.sent[at] = this.now();
        },
        (error: unknown) => {
          const wait = this.options.retryAfterMs(error);
          if (wait === null) {
            this.options.log.warn(`discord: could not rename thread ${threadId}`, error);
            return;
          }
          // Discord did not count it; the 429 says when the window opens.
          lane.sent = lane.sent.filter((at) => at !== now);
          lane.blockedUntil = this.now() + wait;
          lane.wanted ??= name;
        },
      )
      .finally(() => {
        lane.busy = false;
        this.pump(threadId, lane);
      });
  }

  private later(threadId: string, lane: Lane, ms: number): void {
    lane.timer = setTimeout(() => this.pump(threadId, lane), ms);
    // A waiting name must never keep a stopping process alive.
    lane.timer.unref?.();
  }
}
