import type { ArtifactStore } from './ports/artifact-store.ts';
import type { ThreadRef } from './ports/chat-adapter.ts';
import type { SessionStore } from './ports/session-store.ts';
import { systemClock, silentLogger, type Clock, type Logger } from './runtime.ts';
import { filesOf } from './session-retention.ts';
import { activeJobs } from './session-state.ts';

/**
 * Retention: deleting sessions nobody touched for DAILIES_RETENTION_DAYS, with their files and
 * the web chat's copy of their thread.
 *
 * Every session write files the session by its time in an activity index (the store's
 * `idleSessions`), one for sessions with a kept final and one for the rest, so a sweep reads only
 * what is past its cutoff, oldest first, in bounded pages. For each:
 *
 *   1. a session with a job still waiting or rendering is left alone (its next write refreshes it);
 *   2. `retire` takes it out of use in one atomic step, only if nothing wrote it since it was read:
 *      exactly one of several bots racing on it wins, and a reply arriving at that moment keeps it;
 *   3. its files (every `renders/<jobId>/` folder and its input images) and the web chat's
 *      messages are deleted, each delete idempotent;
 *   4. `purge` drops the document and its post records.
 *
 * A bot that dies between 2 and 4 leaves the session retired; any bot's sweep finishes it once
 * `resumeAfterMs` has passed, so it never races a live sweeper on the same session.
 */

export interface RetentionDeps {
  store: Pick<SessionStore, 'idleSessions' | 'get' | 'retire' | 'retiredSessions' | 'getRetired' | 'purge'>;
  artifacts: Pick<ArtifactStore, 'delete' | 'deletePrefix'>;
  /** Deletes our own copy of a thread's messages (the web chat keeps one; Discord and Slack keep theirs) and answers how many went. */
  forgetThread?: (thread: ThreadRef) => Promise<number>;
  /** A session with no kept final goes this long after its last write. */
  idleMs: number;
  /** A session with a kept final goes this long after its last write; null: never. Never sooner than `idleMs`. */
  keepMs: number | null;
  clock?: Clock;
  log?: Logger;
  /** How often `start()` sweeps; default 1 h. */
  everyMs?: number;
  /** Sessions read per page; default 100. */
  pageSize?: number;
  /** Most sessions one sweep deletes, so a first sweep over a large backlog stays short; default 1000. */
  maxPerSweep?: number;
  /** A retired session still unpurged this long after is taken as left by a dead sweeper; default 10 min. */
  resumeAfterMs?: number;
}

export interface RetentionReport {
  sessions: number;
  files: number;
  messages: number;
  /** Past the cutoff but with a job still waiting or rendering. */
  active: number;
}

export interface Retention {
  /** One sweep; `dryRun` deletes nothing and counts the sessions a sweep would delete now (`files` and `messages` stay 0). */
  sweep(options?: { signal?: AbortSignal; dryRun?: boolean }): Promise<RetentionReport>;
  /** Sweeps now, then every `everyMs`. */
  start(): void;
  stop(): Promise<void>;
}

export function createRetention(deps: RetentionDeps): Retention {
  const { store, artifacts } = deps;
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? silentLogger;
  const everyMs = deps.everyMs ?? 3_600_000;
  const pageSize = deps.pageSize ?? 100;
  const maxPerSweep = deps.maxPerSweep ?? 1000;
  const resumeAfterMs = deps.resumeAfterMs ?? 10 * 60_000;
  const keepMs = deps.keepMs === null ? null : Math.max(deps.keepMs, deps.idleMs);
  let timer: unknown = null;
  let running: Promise<unknown> | null = null;
  let aborter: AbortController | null = null;

  /** Steps 3 and 4 for a retired session; idempotent, so finishing one twice is harmless. */
  async function finish(sessionId: string, report: RetentionReport, signal: AbortSignal): Promise<void> {
    const session = await store.getRetired(sessionId);
    if (session) {
      const { folders, keys } = filesOf(session);
      for (const folder of folders) {
        signal.throwIfAborted();
        report.files += await artifacts.deletePrefix(folder, { signal });
      }
      for (const key of keys) await artifacts.delete(key);
      report.files += keys.length;
      if (deps.forgetThread) report.messages += await deps.forgetThread(session.thread);
    }
    await store.purge(sessionId);
    report.sessions++;
  }

  async function sweep(options: { signal?: AbortSignal; dryRun?: boolean } = {}): Promise<RetentionReport> {
    const signal = options.signal ?? new AbortController().signal;
    const report: RetentionReport = { sessions: 0, files: 0, messages: 0, active: 0 };
    const now = clock.now();
    const idleBefore = now - deps.idleMs;
    const keptBefore = keepMs === null ? null : now - keepMs;

    // Sessions a sweeper retired and then died before purging.
    for (const sessionId of await store.retiredSessions(now - resumeAfterMs, pageSize)) {
      signal.throwIfAborted();
      if (options.dryRun) report.sessions++;
      else await finish(sessionId, report, signal);
    }

    // What is skipped stays in the index, so the next page starts past it; what another bot
    // retired, or a write refreshed, has left the index and is not counted. The page bound keeps
    // a sweep finite whatever the index holds.
    let skipped = 0;
    const maxPages = 2 * Math.ceil(maxPerSweep / pageSize);
    for (let pages = 0; pages < maxPages && report.sessions < maxPerSweep; pages++) {
      signal.throwIfAborted();
      const page = await store.idleSessions(idleBefore, keptBefore, skipped, pageSize);
      for (const sessionId of page) {
        signal.throwIfAborted();
        const session = await store.get(sessionId);
        // Gone: another bot retired it since the page was read.
        if (!session) continue;
        if (activeJobs(session).length > 0) {
          report.active++;
          skipped++;
          continue;
        }
        if (options.dryRun) {
          report.sessions++;
          skipped++;
        } else if (await store.retire(sessionId, { rev: session.rev, idleBefore, keptBefore })) await finish(sessionId, report, signal);
      }
      if (page.length < pageSize) break;
    }
    if (report.sessions > 0 && !options.dryRun) log.info?.(`retention: deleted ${report.sessions} sessions, ${report.files} files and ${report.messages} web chat messages`, report);
    return report;
  }

  function sweepInBackground(): void {
    if (running || aborter?.signal.aborted) return;
    const signal = aborter!.signal;
    running = sweep({ signal })
      .catch((error: unknown) => {
        if (!signal.aborted) log.warn('retention: a sweep failed; the next one continues', error);
      })
      .finally(() => {
        running = null;
        if (!signal.aborted) timer = clock.setTimeout(sweepInBackground, everyMs);
      });
  }

  return {
    sweep,
    start() {
      if (timer !== null || running) return;
      aborter = new AbortController();
      sweepInBackground();
    },
    async stop() {
      aborter?.abort();
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
