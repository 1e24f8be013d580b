import { Queue, QueueEvents } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { DailiesError, isDailiesError } from '../errors.ts';
import { FairShare, type FairMode } from './fair-share.ts';
import { shapeOf, workUnits, type JobShape, type ModelScale } from './job-cost.ts';
import type { JobEvent, JobOutcome, JobQueue, JobStatus, RenderJob, WithheldTake } from '../core/ports/job-queue.ts';
import { decodeFailure, encodeFailure, isProgressPayload, type RenderResult } from './job-wire.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { PoolStats, estimateFinishAll, estimateFinishMs, withOwnDuration } from './pool-stats.ts';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, QueueKeys } from './queue-keys.ts';
import { redisClientOptions } from './redis-options.ts';
import { parseRenderJob } from './render-job-schema.ts';
import { processLogger } from '../logging/logger.ts';

export interface BullmqJobQueueOptions {
  /** Where Redis is; see `redisOptionsFromUrl`. */
  redis: RedisOptions;
  /** Default DEFAULT_QUEUE_NAME ('renders'). Workers must use the same name and prefix. */
  queueName?: string;
  /** BullMQ key prefix, default 'dailies'. */
  prefix?: string;
  /** Waiting + running renders one person may have, default 3. */
  perPersonCap?: number;
  /** 'fair' (default) or 'fifo', plain arrival order (kept for comparison in benchmarks). */
  mode?: FairMode;
  /** Tries per job, default 3; only transient failures use them. */
  attempts?: number;
  /** Delay before the first retry, doubled for each further one; default 5 s. */
  backoffMs?: number;
  /** How long finished jobs stay readable through `status`, default 7 days. */
  retainFinishedMs?: number;
  /**
   * Emit 'queued' for every waiting job whose place in line changed (recomputed at most every
   * `positionDebounceMs` after starts, finishes and arrivals), not only for new arrivals.
   * Default true.
   */
  positionUpdates?: boolean;
  positionDebounceMs?: number;
  onError?: (error: Error) => void;
}

export interface QueuedPlace {
  jobId: string;
  position: number;
  etaMs: number | null;
  /** A chain waiting for its next segment: in line, but rendering as far as people go. */
  betweenTurns?: true;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const JOB_NAME = 'render';
const END_WAITING = LuaScript.fromFile(new URL('./lua/end-waiting-8.lua', import.meta.url));
/** What a render cancelled while it waited for its next turn failed with (the worker's own words for a cancel). */
const CANCELLED_REASON = encodeFailure('cancelled', 'The render was cancelled.');

/**
 * The bot side of the worker pool on BullMQ. Every bot process may create one; they share all
 * state through Redis, and each receives the events of every job (deduplicate deliveries with
 * `completedOnce`).
 */
export class BullmqJobQueue implements JobQueue {
  readonly keys: QueueKeys;
  readonly fair: FairShare;
  readonly stats: PoolStats;
  private readonly queue: Queue<RenderJob, RenderResult>;
  private readonly redis: Redis;
  private readonly cap: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly retainSeconds: number;
  private readonly positionUpdates: boolean;
  private readonly positionDebounceMs: number;
  private readonly onError: (error: Error) => void;
  private readonly listeners = new Set<(event: JobEvent) => void>();
  private events: QueueEvents | undefined;
  private lastPlaces = new Map<string, number>();
  // Jobs a worker holds, per the event stream: a place computed just before a job started must
  // not be announced after its 'started'.
  private readonly taken = new Set<string>();
  // Chains between segments, per their 'yielded' progress: still rendering to people, so their
  // trips through BullMQ's delayed and waiting states are not shown as a place in line, and their
  // next turn is not a new start.
  private readonly yielded = new Set<string>();
  // Jobs that ended lately, newest last: a place in line computed before a job's end must not be
  // announced after it (a chain cancelled while it waited between segments was still in line).
  private readonly ended = new Set<string>();
  private positionTimer: NodeJS.Timeout | undefined;
  private positionsRunning: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: BullmqJobQueueOptions) {
    const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    this.keys = new QueueKeys(prefix, queueName);
    this.cap = options.perPersonCap ?? 3;
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 5_000;
    this.retainSeconds = Math.round((options.retainFinishedMs ?? 7 * DAY_MS) / 1000);
    this.positionUpdates = options.positionUpdates ?? true;
    this.positionDebounceMs = options.positionDebounceMs ?? 200;
    this.onError = options.onError ?? ((error) => processLogger().warn('queue: Redis connection error', error));
    // Auto-pipelining on both producer connections: a burst of commands then sends its Redis
    // calls in a few socket writes rather than one write (and syscall) each. Neither connection
    // runs blocking commands (those belong to workers and QueueEvents).
    const producer = { ...redisClientOptions(options.redis, 'producer'), enableAutoPipelining: true };
    this.queue = new Queue(queueName, { connection: producer, prefix });
    this.queue.on('error', this.onError);
    this.redis = new Redis(producer);
    this.redis.on('error', this.onError);
    this.fair = new FairShare(this.redis, this.keys, { mode: options.mode ?? 'fair' });
    this.stats = new PoolStats(this.redis, this.keys);
  }

  async enqueue(job: RenderJob): Promise<JobStatus> {
    const payload = parseRenderJob(job);
    const admitted = await this.reachable(() => this.fair.admit({ jobId: payload.jobId, userId: payload.userId, channelKey: payload.channelKey, shape: shapeOf(payload.request) }, this.cap));
    if (admitted.kind === 'capped') {
      throw new DailiesError(
        'rate_limited',
        `You already have ${this.cap} renders waiting or running; wait for one to finish or /cancel one.`,
      );
    }
    if (admitted.kind === 'duplicate') return this.status(payload.jobId);
    // 'admitted' or 'reserved': BullMQ's add is idempotent by job id, so two bots adding the same
    // reserved job at once still make one job.
    try {
      // A job id that was cancelled and removed earlier starts afresh.
      await this.redis.del(this.keys.cancelFlag(payload.jobId));
      await this.queue.add(JOB_NAME, payload, {
        jobId: payload.jobId,
        priority: admitted.band,
        attempts: this.attempts,
        backoff: { type: 'exponential', delay: this.backoffMs },
        removeOnComplete: { age: this.retainSeconds },
        removeOnFail: { age: this.retainSeconds },
      });
    } catch (error) {
      await this.fair.settle(payload.jobId, { forget: true }).catch(() => {});
      throw this.unavailable(error);
    }
    // Bands may have moved between admission and the add (another job finished meanwhile).
    await this.reachable(() => this.fair.settle(payload.jobId));
    return this.status(payload.jobId);
  }

  /**
   * Cancels a job wherever it is. Never started: removed (the core marks it cancelled itself).
   * Running: its worker is told to abort, and fails it as cancelled. Started but not running at
   * this moment — a chain waiting in line for its next segment, a retry in its backoff — its
   * thread shows it rendering, so it is ended here and now as failed with a 'cancelled' reason
   * (end-waiting-8.lua): the queue's record then says cancelled for as long as it keeps
   * finished jobs (reconciliation's `outcome` reads it), and every bot hears the end at once,
   * without waiting for a free worker to pick the job up only to fail it.
   */
  async cancel(jobId: string): Promise<boolean> {
    return this.reachable(async () => {
      // The flag first: a worker that picks the job up from here on sees it before rendering,
      // which closes the race between "still waiting" and "just started".
      await this.redis.set(this.keys.cancelFlag(jobId), '1', 'PX', DAY_MS);
      if (await this.endStarted(jobId)) return true;
      const state = await this.queue.getJobState(jobId);
      if (state === 'waiting' || state === 'prioritized' || state === 'delayed') {
        if ((await this.queue.remove(jobId)) === 1) {
          await this.fair.settle(jobId, { forget: true });
          return true;
        }
      } else if (state !== 'active') {
        await this.redis.del(this.keys.cancelFlag(jobId));
        return false;
      }
      // Active (or it became active while we looked): the worker running it aborts its render.
      await this.redis.publish(this.keys.cancelChannel, jobId);
      // A chain may have handed its worker back between the look and the message: then it waits
      // in line with no worker to abort, and ends here. (If it is already running its next turn,
      // that turn read the flag, or gets the message.)
      await this.endStarted(jobId);
      return true;
    });
  }

  /** Ends a started job that waits in line as cancelled; true when it did. */
  private endStarted(jobId: string): Promise<boolean> {
    return this.endWaiting(jobId, CANCELLED_REASON, '');
  }

  /**
   * Fails every job waiting in line that was added at or before `addedBy` (ms) with one reason:
   * the unserved-model sweep (model-queues.ts) ends jobs whose model has had no worker for too
   * long, so nobody waits forever. Each bot hears the 'failed' event and shows the reason in the
   * job's thread. Returns how many ended.
   */
  async failWaiting(addedBy: number, code: string, message: string): Promise<number> {
    return this.reachable(async () => {
      const { waiting } = await this.fair.snapshot();
      let ended = 0;
      for (const jobId of waiting) if (await this.endWaiting(jobId, encodeFailure(code, message), addedBy)) ended++;
      return ended;
    });
  }

  /** end-waiting-8.lua for one job, then its fair-share settle; true when it ended. */
  private async endWaiting(jobId: string, reason: string, addedBy: number | ''): Promise<boolean> {
    const k = this.keys;
    const ended = (await END_WAITING.run(
      this.redis,
      [k.base + jobId, k.bull('wait'), k.bull('paused'), k.bull('prioritized'), k.bull('delayed'), k.bull('failed'), k.bull('events'), k.bull('meta')],
      [jobId, Date.now(), reason, addedBy],
    )) as number;
    if (ended !== 1) return false;
    await this.fair.settle(jobId);
    return true;
  }

  async status(jobId: string): Promise<JobStatus> {
    return this.reachable(async () => {
      const [where, slots, average, speed] = await Promise.all([
        this.fair.locate(jobId),
        this.stats.liveSlots(),
        this.stats.averageDurationMs(),
        this.renderSpeed(),
      ]);
      const now = Date.now();
      const own = speed(where.shape);
      if (where.state === 'waiting' || where.state === 'delayed') {
        const elapsed = where.activeStartedAt.filter((t) => t > 0).map((t) => now - t);
        const etaMs = average !== null && slots > 0 ? withOwnDuration(estimateFinishMs(where.position ?? 1, elapsed, slots, average), average, own) : null;
        return { state: 'waiting', position: where.position, etaMs };
      }
      if (where.state === 'active') {
        const expected = own ?? average;
        const etaMs = expected !== null && where.startedAt ? Math.max(Math.round(expected - (now - where.startedAt)), 0) : null;
        return { state: 'active', position: null, etaMs };
      }
      return this.finishedStatus(jobId);
    });
  }

  async outcome(jobId: string): Promise<JobOutcome> {
    return this.reachable(async () => {
      const job = await this.queue.getJob(jobId);
      if (!job) {
        // A waiting job removed by a cancel leaves only its cancel flag behind.
        const cancelled = (await this.redis.exists(this.keys.cancelFlag(jobId))) === 1;
        return cancelled ? { state: 'ended', event: { type: 'cancelled', jobId } } : { state: 'unknown' };
      }
      if (!job.finishedOn) return { state: 'pending' };
      // failedReason outlives a failed attempt: a job that completed on a retry still has one.
      if (job.failedReason && (await job.isFailed())) {
        const error = decodeFailure(job.failedReason);
        return { state: 'ended', event: error.code === 'cancelled' ? { type: 'cancelled', jobId } : { type: 'failed', jobId, error, willRetry: false } };
      }
      const result = job.returnvalue as RenderResult | null;
      return { state: 'ended', event: { type: 'completed', jobId, takes: result?.takes ?? [], ...withheldOf(result), timingsMs: result?.timingsMs ?? {} } };
    });
  }

  /** Every waiting job in the order workers will take them, with ETAs (chains between segments included: they are in line too). */
  async waitingOrder(): Promise<QueuedPlace[]> {
    const [snapshot, slots, average, speed] = await Promise.all([
      this.fair.snapshot(),
      this.stats.liveSlots(),
      this.stats.averageDurationMs(),
      this.renderSpeed(),
    ]);
    const now = Date.now();
    const elapsed = snapshot.activeStartedAt.filter((t) => t > 0).map((t) => now - t);
    const etas = average !== null && slots > 0 ? estimateFinishAll(snapshot.waiting.length, elapsed, slots, average) : [];
    return snapshot.waiting.map((jobId, i) => {
      const eta = etas[i];
      const place: QueuedPlace = { jobId, position: i + 1, etaMs: eta === undefined ? null : withOwnDuration(eta, average!, speed(snapshot.shapes[i] ?? null)) };
      if (snapshot.betweenTurns[i]) place.betweenTurns = true;
      return place;
    });
  }

  /**
   * How long a job of a given shape should render, from the workers' recent speed per work unit
   * and their model's defaults; null (use the average job) until both are known.
   */
  private async renderSpeed(): Promise<(shape: JobShape | null) => number | null> {
    const [unitMs, scale] = await Promise.all([this.stats.averageUnitMs(), this.stats.modelScale()]);
    return (shape) => (shape && unitMs !== null && scale ? unitMs * workUnits(shape, scale) : null);
  }

  /**
   * True exactly once per (jobId, part) across all bot processes: call it right before posting
   * a job's final result, so a completion seen by several processes (or redelivered after a
   * reconnect) is posted once. At-most-once: a process that claims and then crashes before
   * posting leaves the post undone.
   */
  async completedOnce(jobId: string, part = 'final'): Promise<boolean> {
    const claimed = await this.redis.set(this.keys.delivered(jobId, part), '1', 'PX', 7 * DAY_MS, 'NX');
    return claimed === 'OK';
  }

  onEvent(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    this.startEvents();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Resolves once the event stream is being read (events before that are not delivered). */
  async eventsReady(): Promise<void> {
    await this.startEvents().waitUntilReady();
  }

  /**
   * BullMQ's own Prometheus exposition of this queue: `bullmq_job_count` by state (fair-share jobs
   * wait as `prioritized`), and the completed and failed totals. `labels` are added to every line.
   */
  prometheusText(labels: Record<string, string> = {}): Promise<string> {
    return this.reachable(() => this.queue.exportPrometheusMetrics(labels));
  }

  /**
   * The BullMQ queue itself, for the operators' dashboard (/admin/queues) and nothing else: jobs
   * removed there are settled in fair share through the 'removed' event (see `startEvents`).
   */
  dashboardQueue(): Queue<RenderJob, RenderResult> {
    return this.queue;
  }

  /** The defaults of the model the pool renders with, as its workers publish them; null before any has. */
  modelScale(): Promise<ModelScale | null> {
    return this.stats.modelScale();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.positionTimer);
    await this.positionsRunning?.catch(() => {});
    // BullMQ closes a connection still starting up by dropping it, which rejects its own start-up
    // commands where nothing awaits them (an unhandled rejection: "Connection is closed."). So each
    // is let finish starting first, for a bounded while: with Redis gone it never would.
    for (const part of [this.events, this.queue]) {
      if (!part) continue;
      await readyOrLater(part.waitUntilReady());
      await part.close();
    }
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private startEvents(): QueueEvents {
    if (this.events) return this.events;
    const events = new QueueEvents(this.keys.queueName, { connection: this.options.redis, prefix: this.keys.prefix });
    events.on('error', this.onError);
    events.on('waiting', ({ jobId }) => {
      // A chain back in line for its next segment is still rendering: no place in line for it.
      if (this.yielded.has(jobId)) return this.placesChanged();
      this.taken.delete(jobId);
      // The stream is ordered: waiting after an end is the same id enqueued afresh.
      this.ended.delete(jobId);
      this.placesChanged(jobId);
    });
    events.on('active', ({ jobId }) => {
      this.taken.add(jobId);
      this.placesChanged();
    });
    events.on('delayed', () => this.placesChanged());
    events.on('removed', ({ jobId, prev }) => {
      // Removed by someone else than `cancel` (the queue dashboard, a script): its owner's place in
      // the cap and the bands behind it are freed now rather than at the owner's next enqueue.
      // Every bot does it; settle is idempotent.
      void this.fair.settle(jobId).catch(this.onError);
      // A finished job cleared from the dashboard ended long ago: nothing was cancelled.
      if (prev === 'completed' || prev === 'failed') return;
      this.taken.delete(jobId);
      this.yielded.delete(jobId);
      this.endedNow(jobId);
      this.emit({ type: 'cancelled', jobId });
      this.placesChanged();
    });
    events.on('progress', ({ jobId, data }) => this.onProgress(jobId, data));
    events.on('completed', ({ jobId, returnvalue }) => {
      this.taken.delete(jobId);
      this.yielded.delete(jobId);
      this.endedNow(jobId);
      const result = returnvalue as unknown as RenderResult | null;
      this.emit({ type: 'completed', jobId, takes: result?.takes ?? [], ...withheldOf(result), timingsMs: result?.timingsMs ?? {} });
    });
    events.on('failed', ({ jobId, failedReason }) => {
      this.taken.delete(jobId);
      this.yielded.delete(jobId);
      this.endedNow(jobId);
      const error = decodeFailure(failedReason);
      if (error.code === 'cancelled') this.emit({ type: 'cancelled', jobId });
      else this.emit({ type: 'failed', jobId, error, willRetry: false });
      this.placesChanged();
    });
    this.events = events;
    return events;
  }

  private onProgress(jobId: string, data: unknown): void {
    if (!isProgressPayload(data)) return;
    switch (data.kind) {
      case 'started':
        // Workers do not announce a chain's next turn; a bot that joined mid-chain may still see one.
        if (this.yielded.has(jobId)) break;
        this.emit({ type: 'started', jobId, workerId: data.workerId, attempt: data.attempt });
        break;
      case 'step':
        this.emit({ type: 'progress', jobId, step: data.step, totalSteps: data.totalSteps, ...segmentOf(data) });
        break;
      case 'preview':
        this.emit({ type: 'preview', jobId, step: data.step, totalSteps: data.totalSteps, previews: data.previews, ...(data.takes ? { takes: data.takes } : {}), ...segmentOf(data) });
        break;
      case 'retrying':
        this.yielded.delete(jobId);
        this.emit({ type: 'failed', jobId, error: { code: data.code, message: data.message }, willRetry: true });
        break;
      case 'yielded':
        // Not a failure, not a retry: the job stays 'rendering' (and outstanding in fair share).
        this.yielded.add(jobId);
        this.taken.add(jobId);
        break;
    }
  }

  private endedNow(jobId: string): void {
    this.ended.delete(jobId);
    this.ended.add(jobId);
    // Only the last few matter (places are recomputed within positionDebounceMs of an end).
    if (this.ended.size > 1_000) this.ended.delete(this.ended.values().next().value!);
  }

  private placesChanged(arrived?: string): void {
    if (this.closed) return;
    if (!this.positionUpdates) {
      if (arrived) void this.emitQueued(arrived);
      return;
    }
    if (this.positionTimer) return;
    this.positionTimer = setTimeout(() => {
      this.positionTimer = undefined;
      // One recomputation at a time; changes during it schedule the next.
      this.positionsRunning = (this.positionsRunning ?? Promise.resolve()).then(() => this.emitPlaces()).catch(this.onError);
    }, this.positionDebounceMs);
  }

  private async emitQueued(jobId: string): Promise<void> {
    try {
      const status = await this.status(jobId);
      if (status.state === 'waiting' && status.position !== null && !this.taken.has(jobId) && !this.ended.has(jobId)) {
        this.emit({ type: 'queued', jobId, position: status.position, etaMs: status.etaMs });
      }
    } catch (error) {
      this.onError(error as Error);
    }
  }

  private async emitPlaces(): Promise<void> {
    if (this.closed) return;
    const places = await this.waitingOrder();
    const next = new Map<string, number>();
    for (const place of places) {
      if (this.taken.has(place.jobId) || this.ended.has(place.jobId) || place.betweenTurns) continue;
      next.set(place.jobId, place.position);
      if (this.lastPlaces.get(place.jobId) !== place.position) {
        this.emit({ type: 'queued', jobId: place.jobId, position: place.position, etaMs: place.etaMs });
      }
    }
    this.lastPlaces = next;
  }

  private emit(event: JobEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onError(error as Error);
      }
    }
  }

  private async finishedStatus(jobId: string): Promise<JobStatus> {
    const job = await this.queue.getJob(jobId);
    if (!job) {
      const cancelled = (await this.redis.exists(this.keys.cancelFlag(jobId))) === 1;
      return { state: cancelled ? 'cancelled' : 'unknown', position: null, etaMs: null };
    }
    if (!job.finishedOn) return { state: 'waiting', position: null, etaMs: null };
    if (job.failedReason && (await job.isFailed())) {
      const cancelled = decodeFailure(job.failedReason).code === 'cancelled';
      return { state: cancelled ? 'cancelled' : 'failed', position: null, etaMs: null };
    }
    return { state: 'completed', position: null, etaMs: null };
  }

  private async reachable<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown): Error {
    if (isDailiesError(error)) return error;
    return new DailiesError('unavailable', 'The render queue is not reachable right now; try again in a minute.', {
      retryable: true,
      cause: error,
    });
  }
}

/** A chained render's segment k of n, when the worker sent one. */
function segmentOf(data: { segment?: number; segments?: number }): { segment?: number; segments?: number } {
  return data.segment !== undefined && data.segments !== undefined ? { segment: data.segment, segments: data.segments } : {};
}

/** The frame check's withheld takes of a result, as an event field (absent when none). */
function withheldOf(result: RenderResult | null): { withheld?: WithheldTake[] } {
  return result?.withheld?.length ? { withheld: result.withheld } : {};
}

/** How long close() lets a starting connection finish before it is dropped anyway. */
const READY_WAIT_MS = 2_000;

async function readyOrLater(ready: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([ready.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, READY_WAIT_MS)))]);
  clearTimeout(timer);
}
