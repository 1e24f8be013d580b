import { isDailiesError } from '../errors.ts';
import type { JobQueue, JobStatus } from './ports/job-queue.ts';
import type { SessionStore } from './ports/session-store.ts';
import type { Delivery } from './delivery.ts';
import { renderJobOf } from './render-job.ts';
import { systemClock, silentLogger, type Clock, type Logger } from './runtime.ts';
import type { JobRecord, Session } from './session.ts';

/**
 * Admission: handing jobs the store has recorded to the queue, after the chat event is answered.
 *
 * Why after: a command is durable once its session and job are written (one Redis round trip),
 * while the queue's part (fair-share bands, BullMQ's add, the place in line and its ETA) took
 * five times as long in a burst (200 enqueues 160-225 ms, 200 session writes 23-41 ms). Awaiting
 * it made a burst of 200 commands wait for 200 enqueues before anyone got an answer. A refusal by
 * the queue (the per-person cap) now shows in the thread's progress message, where delivery puts
 * every failed job.
 *
 * Why nothing is lost: the store keeps an index of jobs awaiting admission, written in the same
 * step as the job. A job still in it after `graceMs` (its bot died before the queue took it) is
 * admitted by the sweep of any bot process. Enqueueing is idempotent by job id, so two bots
 * sweeping at once, or a sweep racing a slow admission, still queue it once.
 *
 * The same index makes a queue outage harmless: a job the queue could not take stays in it and
 * is retried by the sweeps for `giveUpMs` before it is marked failed.
 *
 * A cancel that arrives before the queue has the job marks it cancelled in the store (see
 * take-flow's cancelJobs); admission notices that when it confirms the job and cancels it in the
 * queue as well.
 *
 * At most `concurrency` admissions run at once, in arrival order, each started from setImmediate
 * so that I/O already waiting (more commands arriving) is served between them.
 */

export interface AdmissionDeps {
  store: SessionStore;
  queue: Pick<JobQueue, 'enqueue' | 'cancel'>;
  delivery: Pick<Delivery, 'track'>;
  clock?: Clock;
  log?: Logger;
  concurrency?: number;
  /** How old a job awaiting admission must be before the sweep treats it as abandoned. */
  graceMs?: number;
  /** How often `start()` sweeps. */
  sweepEveryMs?: number;
  /** How long a job the queue could not be reached for keeps being retried before it is marked failed. */
  giveUpMs?: number;
  /** How long a storyboard's shot refused by the per-person cap waits for a slot before it fails. */
  holdMs?: number;
  /** How often such a shot asks again. */
  holdRetryMs?: number;
}

export interface Admission {
  /** Queues the job in the background; returns at once. */
  submit(session: Session, job: JobRecord): void;
  /** Resolves when every submitted admission has finished (benches, tests, shutdown). */
  idle(): Promise<void>;
  /** Admits jobs abandoned by a bot that died between recording and queueing them; returns how many. */
  sweep(): Promise<number>;
  /** Sweeps now and then every `sweepEveryMs`. */
  start(): void;
  /** Stops sweeping and waits for running admissions. */
  stop(): Promise<void>;
}

export function createAdmission(deps: AdmissionDeps): Admission {
  const { store, queue, delivery } = deps;
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? silentLogger;
  const concurrency = deps.concurrency ?? 16;
  const graceMs = deps.graceMs ?? 20_000;
  const sweepEveryMs = deps.sweepEveryMs ?? 20_000;
  const giveUpMs = deps.giveUpMs ?? 10 * 60_000;
  const holdMs = deps.holdMs ?? 60 * 60_000;
  const holdRetryMs = deps.holdRetryMs ?? 2_000;

  const waiting: Array<{ session: Session; job: JobRecord }> = [];
  const inFlight = new Set<string>();
  let running = 0;
  let idleWaiters: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;

  function pump(): void {
    while (running < concurrency && waiting.length > 0) {
      const next = waiting.shift()!;
      running++;
      setImmediate(() => {
        void admit(next.session, next.job).finally(() => {
          running--;
          inFlight.delete(next.job.jobId);
          pump();
        });
      });
    }
    if (running === 0 && waiting.length === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Never throws: every outcome ends up in the job's record and its progress message. */
  async function admit(session: Session, job: JobRecord): Promise<void> {
    const payload = renderJobOf(session, job);
    if (!payload) return;
    let status: JobStatus;
    try {
      status = await queue.enqueue(payload);
    } catch (error) {
      // Redis or the queue unreachable: the job stays awaiting admission and a sweep tries again,
      // until it is `giveUpMs` old. Refusals (the per-person cap, a bad request) are final.
      const transient = !isDailiesError(error) || error.retryable;
      if (transient && clock.now() - job.createdAt < giveUpMs) {
        log.warn(`could not queue job ${job.jobId} yet; a sweep will try again`, error);
        return;
      }
      // A storyboard is one command but one job per shot: its shots beyond the person's cap wait
      // for earlier ones to finish instead of failing, so the cap still holds and the board fills in.
      if (isDailiesError(error) && error.code === 'rate_limited' && session.storyboard && clock.now() - job.createdAt < holdMs) {
        clock.setTimeout(() => submit(session, job), holdRetryMs);
        return;
      }
      const failure = isDailiesError(error)
        ? { code: error.code, message: error.message }
        : { code: 'unavailable', message: 'The render queue is not answering; try again in a minute.' };
      if (!isDailiesError(error)) log.error(`enqueue of job ${job.jobId} failed`, error);
      // Leaving 'queued' also drops the job from the store's admission index.
      await store.transitionJob(job.jobId, 'failed', { error: failure }).catch((e: unknown) => log.warn(`could not mark job ${job.jobId} failed`, e));
      void delivery.track(job.jobId).catch((e: unknown) => log.warn(`could not show job ${job.jobId}`, e));
      return;
    }
    const stillAwaiting = await store.admitted(session.id, job.jobId).catch((e: unknown) => {
      log.warn(`could not mark job ${job.jobId} admitted (a sweep will settle it)`, e);
      return true;
    });
    // Gone from the index already: someone cancelled the job while the queue did not have it yet,
    // and that cancel could not reach the queue. It does now.
    if (!stillAwaiting && (await store.get(session.id).catch(() => null))?.jobs.find((j) => j.jobId === job.jobId)?.state === 'cancelled') {
      await queue.cancel(job.jobId).catch((e: unknown) => log.warn(`could not cancel job ${job.jobId} in the queue`, e));
    }
    void delivery.track(job.jobId, status).catch((e: unknown) => log.warn(`could not show job ${job.jobId}`, e));
  }

  function submit(session: Session, job: JobRecord): void {
    if (inFlight.has(job.jobId)) return;
    inFlight.add(job.jobId);
    waiting.push({ session, job });
    pump();
  }

  async function sweep(): Promise<number> {
    const abandoned = await store.awaitingAdmission(clock.now() - graceMs, 100);
    let resubmitted = 0;
    for (const { sessionId, jobId } of abandoned) {
      if (inFlight.has(jobId)) continue;
      const session = await store.get(sessionId);
      const job = session?.jobs.find((j) => j.jobId === jobId);
      if (!session || !job || job.state !== 'queued' || !job.request) {
        await store.admitted(sessionId, jobId);
        continue;
      }
      log.warn(`admitting job ${jobId}, recorded ${Math.round((clock.now() - job.createdAt) / 1000)} s ago but never queued`);
      submit(session, job);
      resubmitted++;
    }
    return resubmitted;
  }

  function sweepInBackground(): void {
    if (sweeping) return;
    sweeping = sweep()
      .catch((e: unknown) => log.warn('could not sweep jobs awaiting admission', e))
      .finally(() => {
        sweeping = undefined;
      });
  }

  return {
    submit,
    idle() {
      if (running === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    sweep,
    start() {
      if (timer) return;
      sweepInBackground();
      timer = setInterval(sweepInBackground, sweepEveryMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await sweeping;
      await this.idle();
    },
  };
}
