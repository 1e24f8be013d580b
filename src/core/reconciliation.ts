import type { EndEvent, JobQueue } from './ports/job-queue.ts';
import type { SessionStore } from './ports/session-store.ts';
import type { Delivery } from './delivery.ts';
import { systemClock, silentLogger, type Clock, type Logger } from './runtime.ts';
import type { JobRecord } from './session.ts';
import { findJob, isTerminal } from './session-state.ts';

/**
 * Reconciliation: finishing the delivery of jobs whose end no bot showed.
 *
 * Delivery normally learns of a job's end from the queue's event stream, which only reaches bots
 * that are listening: a job that finished while every bot was down, or whose end was being posted
 * when its bot died, would otherwise sit at "Rendering…" forever. The store keeps every job in an
 * undelivered index from the write that records it until delivery marks its end shown
 * (delivery.ts `finish`). This walks that index on start and every `everyMs`:
 *
 *   1. a job the store already knows has ended (done, failed, cancelled) is delivered again from
 *      the store's record — the post claims skip whatever was posted before the crash;
 *   2. otherwise the queue's own record is asked (`outcome`, one read): an end there is handed to
 *      delivery like the event that was missed;
 *   3. a job the queue has never heard of, long after the admission sweep gave up on it, failed
 *      with a sentence saying so (Redis lost its data), so the thread never waits forever.
 *
 * Every bot process runs one; two reconciling the same job post it once (claims), and within a
 * process delivery serialises a job's work, so a sweep racing the live event is harmless. Jobs
 * touched in the last `graceMs` are left to the live event path.
 */

export interface ReconciliationDeps {
  store: Pick<SessionStore, 'undelivered' | 'get' | 'markDelivered'>;
  queue: Pick<JobQueue, 'outcome'>;
  delivery: Pick<Delivery, 'handle'>;
  clock?: Clock;
  log?: Logger;
  /** How often `start()` sweeps; default 15 s. */
  everyMs?: number;
  /** Jobs changed more recently than this are left to the live events; default 5 s. */
  graceMs?: number;
  /** A job the queue does not know, recorded longer ago than this, is failed as lost; default 15 min (admission retries for 10). */
  lostAfterMs?: number;
  /** An end that still cannot be shown this long after it happened is given up on (logged); default 1 h. */
  giveUpMs?: number;
}

export interface Reconciliation {
  /** One pass over the undelivered index; resolves with how many jobs it handed to delivery. */
  sweep(): Promise<number>;
  /** Sweeps now, then every `everyMs`. */
  start(): void;
  stop(): Promise<void>;
}

const PAGE = 100;

export function createReconciliation(deps: ReconciliationDeps): Reconciliation {
  const { store, queue, delivery } = deps;
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? silentLogger;
  const everyMs = deps.everyMs ?? 15_000;
  const graceMs = deps.graceMs ?? 5_000;
  const lostAfterMs = deps.lostAfterMs ?? 15 * 60_000;
  const giveUpMs = deps.giveUpMs ?? 60 * 60_000;
  let timer: unknown = null;
  let running: Promise<unknown> | null = null;
  let stopped = false;

  async function reconcile(sessionId: string, jobId: string): Promise<boolean> {
    const session = await store.get(sessionId);
    const job = session && findJob(session, jobId);
    if (!job || job.deliveredAt) return false;
    const now = clock.now();
    if (now - job.updatedAt < graceMs) return false;

    // 1. Ended in the store: show that end again.
    if (isTerminal(job.state)) {
      if (now - job.updatedAt > giveUpMs) {
        log.warn(`giving up on showing the end of job ${jobId} (${job.state} ${Math.round((now - job.updatedAt) / 60_000)} min ago)`);
        await store.markDelivered(jobId);
        return false;
      }
      await delivery.handle(endEventOf(job));
      return true;
    }

    // 2. Still open in the store: the queue's record says whether it ended meanwhile.
    const outcome = await queue.outcome(jobId);
    if (outcome.state === 'ended') {
      log.warn(`job ${jobId} ended (${outcome.event.type}) without its event reaching a bot; delivering it now`);
      await delivery.handle(outcome.event);
      return true;
    }

    // 3. Unknown to the queue long after admission stopped trying.
    if (outcome.state === 'unknown' && now - job.createdAt > lostAfterMs) {
      log.warn(`job ${jobId} is unknown to the queue ${Math.round((now - job.createdAt) / 60_000)} min after it was recorded; failing it`);
      await delivery.handle({
        type: 'failed',
        jobId,
        error: { code: 'unavailable', message: 'The render queue lost this render (its data was reset); send `again` to render it once more.' },
        willRetry: false,
      });
      return true;
    }
    return false;
  }

  async function sweep(): Promise<number> {
    let handed = 0;
    for (let offset = 0; !stopped; offset += PAGE) {
      const page = await store.undelivered(offset, PAGE);
      for (const { sessionId, jobId } of page) {
        if (stopped) break;
        try {
          if (await reconcile(sessionId, jobId)) handed++;
        } catch (error) {
          log.warn(`could not reconcile job ${jobId}`, error);
        }
      }
      if (page.length < PAGE) break;
    }
    return handed;
  }

  function sweepInBackground(): void {
    if (running || stopped) return;
    running = sweep()
      .catch((error: unknown) => log.warn('could not reconcile undelivered jobs', error))
      .finally(() => {
        running = null;
        if (!stopped) timer = clock.setTimeout(sweepInBackground, everyMs);
      });
  }

  return {
    sweep,
    start() {
      stopped = false;
      if (timer === null && !running) sweepInBackground();
    },
    async stop() {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

/** The end a job's stored record shows, as the event that would have announced it. */
function endEventOf(job: JobRecord): EndEvent {
  switch (job.state) {
    case 'done':
      return { type: 'completed', jobId: job.jobId, takes: job.artifacts, ...(job.withheld ? { withheld: job.withheld } : {}), timingsMs: {} };
    case 'cancelled':
      return { type: 'cancelled', jobId: job.jobId };
    default:
      return { type: 'failed', jobId: job.jobId, error: job.error ?? { code: 'internal', message: 'The render failed; send `again` to try once more.' }, willRetry: false };
  }
}
