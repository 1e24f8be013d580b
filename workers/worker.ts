import { Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { VideoModel } from '../src/core/ports/video-model.ts';
import { FairShare } from '../src/queue/fair-share.ts';
import { shapeOf, workUnits, type ModelScale } from '../src/queue/job-cost.ts';
import type { RenderJob } from '../src/core/ports/job-queue.ts';
import type { ArtifactStore } from '../src/core/ports/artifact-store.ts';
import type { RenderResult } from '../src/queue/job-wire.ts';
import { ModelRegistry } from '../src/queue/model-registry.ts';
import { PoolStats } from '../src/queue/pool-stats.ts';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, QueueKeys } from '../src/queue/queue-keys.ts';
import { redisClientOptions } from '../src/queue/redis-options.ts';
import { ModelPool } from './model-pool.ts';
import { CANCEL_REASON, RenderProcessor, SHUTDOWN_REASON, type YieldPolicy } from './render-processor.ts';
import type { RenderMedia } from './render-media.ts';
import type { FrameCheck } from '../src/core/ports/frame-check.ts';
import type { FinalSigner } from './final-signer.ts';
import { processLogger } from '../src/logging/logger.ts';

export interface RenderWorkerOptions {
  redis: RedisOptions;
  /**
   * The queue this worker takes jobs from: its model's (`modelQueueName(base, model)`, which the
   * CLI passes), or any name a test or bench pairs with its own BullmqJobQueue. Default
   * DEFAULT_QUEUE_NAME; the prefix defaults to DEFAULT_PREFIX ('renders', 'dailies').
   */
  queueName?: string;
  prefix?: string;
  /** Shown in 'started' events and BullMQ's worker list, e.g. "gpu-box:gpu1:4242". */
  workerId: string;
  /** Render slots: jobs run at the same time, each with its own model. Default 1. */
  concurrency?: number;
  /** Builds one slot's model; use ThreadedVideoModel.start for anything CPU-bound. */
  createModel: () => Promise<VideoModel>;
  media: RenderMedia;
  store: ArtifactStore;
  /** Loads the frame check read before every preview and final is stored (null: none); loaded at start so a bad folder stops the worker with its sentence. */
  frameCheck?: () => Promise<FrameCheck | null>;
  /** Makes the signer of finals' Content Credentials for the loaded model (null: finals go unsigned). */
  signer?: (model: VideoModel) => Promise<FinalSigner | null>;
  /** BullMQ lock; renewed every half of it. Default 30 s. */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died. Default 30 s. */
  stalledIntervalMs?: number;
  /** Recoveries before a job that keeps killing its worker fails. Default 1. */
  maxStalledCount?: number;
  /** A render that shows no progress for this long is aborted and retried (stall-watch.ts). Default 10 min. */
  stallTimeoutMs?: number;
  heartbeatMs?: number;
  progressIntervalMs?: number;
  /**
   * When a chain (a render past one model window) hands its worker back between segments so other
   * jobs get a turn: 'when-waiting' (default) only when another job waits, 'always', 'never'.
   */
  yieldPolicy?: YieldPolicy;
  /** Told of every job that ended on this worker and how long it rendered (metrics). */
  onRendered?: (outcome: 'completed' | 'failed', ms: number) => void;
  log?: (line: string) => void;
}

/** With the default 5-s heartbeat, the prompt vocabulary is written about once a minute. */
const VOCABULARY_EVERY_BEATS = 12;

/**
 * One worker process's share of the pool: takes render jobs from BullMQ, one per slot, and keeps
 * the pool's shared bookkeeping (fair-share bands, heartbeats, durations) up to date.
 */
export class RenderWorker {
  readonly keys: QueueKeys;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly fair: FairShare;
  private readonly stats: PoolStats;
  private readonly registry: ModelRegistry;
  private readonly models: ModelPool;
  private readonly log: (line: string) => void;
  private worker: Worker<RenderJob, RenderResult> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closingPromise: Promise<void> | undefined;
  private running = 0;
  private frameCheck: FrameCheck | null = null;
  /** The model's defaults, for sizing finished jobs in work units (ETAs). */
  private scale: ModelScale | undefined;

  constructor(private readonly options: RenderWorkerOptions) {
    this.keys = new QueueKeys(options.prefix ?? DEFAULT_PREFIX, options.queueName ?? DEFAULT_QUEUE_NAME);
    // Its lines are the pool's troubles (Redis errors, failed bookkeeping, requeues): warnings.
    this.log = options.log ?? ((line) => processLogger().warn(line));
    const clientOptions = redisClientOptions(options.redis, 'worker');
    this.redis = new Redis(clientOptions);
    this.subscriber = new Redis(clientOptions);
    for (const client of [this.redis, this.subscriber]) client.on('error', (e: Error) => this.log(`[worker] redis: ${e.message}`));
    this.fair = new FairShare(this.redis, this.keys);
    this.stats = new PoolStats(this.redis, this.keys);
    this.registry = new ModelRegistry(this.redis, this.keys.prefix);
    this.models = new ModelPool(options.createModel, options.concurrency ?? 1);
  }

  get id(): string {
    return this.options.workerId;
  }

  /** Loads the models, then starts taking jobs. Resolves with the (first) model for logging. */
  async start(): Promise<VideoModel> {
    const model = await this.models.warm();
    this.frameCheck = (await this.options.frameCheck?.()) ?? null;
    const signer = (await this.options.signer?.(model)) ?? null;
    const scale: ModelScale = { steps: model.defaults.steps, frames: model.defaults.frames };
    this.scale = scale;
    const o = this.options;
    const slots = o.concurrency ?? 1;
    const processor = new RenderProcessor({
      workerId: o.workerId,
      acquireModel: () => this.models.acquire(),
      media: o.media,
      store: o.store,
      frameCheck: this.frameCheck,
      signer,
      isCancelRequested: async (jobId) => (await this.redis.exists(this.keys.cancelFlag(jobId))) === 1,
      progressIntervalMs: o.progressIntervalMs,
      ...(o.stallTimeoutMs !== undefined && { stallTimeoutMs: o.stallTimeoutMs }),
      turns: { waitingCount: () => this.fair.waitingCount(), requeue: (jobId, startedAt) => this.fair.requeue(jobId, startedAt) },
      yieldPolicy: o.yieldPolicy,
      isClosing: () => this.closingPromise !== undefined,
      log: this.log,
    });

    this.subscriber.on('message', (_channel: string, jobId: string) => {
      if (this.worker?.cancelJob(jobId, CANCEL_REASON)) this.log(`[worker] ${jobId} cancel requested`);
    });
    await this.subscriber.subscribe(this.keys.cancelChannel);

    // The model's defaults ride with every heartbeat, so they are back soon after a Redis restart.
    // Its model's entry in the registry moves forward too: that is how bots route jobs to this
    // queue and see whether anyone serves the model (src/queue/model-queues.ts). Its prompt
    // vocabulary (the words replies match) is larger and never changes while the worker runs, so
    // it goes with the first beat and every VOCABULARY_EVERY_BEATS-th after (back within a minute
    // of a Redis restart), and again on the beat after any failed one.
    const ttlMs = 3 * (o.heartbeatMs ?? 5_000);
    let beats = 0;
    const beat = () =>
      Promise.all([
        this.stats.heartbeat(o.workerId, slots, ttlMs),
        this.stats.publishModelScale(scale),
        this.registry.announce(model.name, this.keys.queueName, Date.now() + ttlMs),
        beats++ % VOCABULARY_EVERY_BEATS === 0 ? this.registry.publishVocabulary(model.name, model.promptVocabulary ?? null) : undefined,
      ]).catch(() => {
        beats = 0;
      });
    await beat();
    this.heartbeat = setInterval(beat, o.heartbeatMs ?? 5_000);

    // Three parameters: BullMQ passes an AbortSignal only to processors that declare one
    // (it checks the function's length).
    const worker = new Worker<RenderJob, RenderResult>(
      this.keys.queueName,
      async (job, token, signal) => {
        this.running++;
        try {
          return await processor.process(job, token, signal);
        } finally {
          this.running--;
        }
      },
      {
        connection: o.redis,
        prefix: this.keys.prefix,
        name: o.workerId,
        concurrency: slots,
        lockDuration: o.lockDurationMs ?? 30_000,
        stalledInterval: o.stalledIntervalMs ?? 30_000,
        maxStalledCount: o.maxStalledCount ?? 1,
        // BullMQ's completed/failed counts (bullmq_job_completed_total on the bot's /metrics) and a
        // day of per-minute points; without this option they stay 0.
        metrics: { maxDataPoints: 24 * 60 },
        autorun: false,
      },
    );
    worker.on('error', (e) => this.log(`[worker] ${e.message}`));
    worker.on('completed', (job) => void this.finished(job, true));
    worker.on('failed', (job) => job && void this.finished(job, false));
    this.worker = worker;
    void worker.run().catch((e: Error) => this.log(`[worker] stopped: ${e.message}`));
    await worker.waitUntilReady();
    return model;
  }

  /** True once `close` was called: the worker takes no more jobs (health checks report it). */
  get closing(): boolean {
    return this.closingPromise !== undefined;
  }

  /** Jobs this process is rendering right now. */
  get activeJobs(): number {
    return this.running;
  }

  /**
   * Stops taking jobs and lets running ones finish for up to `graceMs`; renders still running
   * then are interrupted and go back to the front of their band for another worker. A chain hands
   * its worker back at its next segment, keeping what it has stored.
   */
  close(graceMs = 30_000): Promise<void> {
    this.closingPromise ??= (async () => {
      clearInterval(this.heartbeat);
      if (this.worker) {
        const worker = this.worker;
        const timer = setTimeout(() => {
          if (this.activeJobs) this.log(`[worker] ${this.activeJobs} render(s) still running after ${graceMs} ms; requeueing`);
          worker.cancelAllJobs(SHUTDOWN_REASON);
        }, graceMs);
        await worker.close();
        clearTimeout(timer);
      }
      await this.stats.leave(this.options.workerId).catch(() => {});
      await this.models.close();
      await this.frameCheck?.close().catch(() => {});
      await Promise.allSettled([this.redis.quit(), this.subscriber.quit()]);
    })();
    return this.closingPromise;
  }

  private async finished(job: Job<RenderJob, RenderResult>, completed: boolean): Promise<void> {
    if (job.finishedOn && job.processedOn) {
      // A chain's turns add up to its rendering time; processedOn is only its last turn's start.
      const active = completed ? job.returnvalue?.timingsMs?.active : undefined;
      this.options.onRendered?.(completed ? 'completed' : 'failed', typeof active === 'number' ? active : job.finishedOn - job.processedOn);
    }
    try {
      if (completed && job.finishedOn && job.processedOn) {
        const units = this.scale && job.data?.request ? workUnits(shapeOf(job.data.request), this.scale) : undefined;
        // A chain's turns add up to its rendering time; processedOn is only its last turn's start.
        const active = job.returnvalue?.timingsMs?.active;
        await this.stats.recordDuration(typeof active === 'number' ? active : job.finishedOn - job.processedOn, units);
      }
      if (job.id) await this.fair.settle(job.id);
    } catch (error) {
      this.log(`[worker] bookkeeping after ${job.id}: ${(error as Error).message}`);
    }
  }
}
