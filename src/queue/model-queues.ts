import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DailiesError } from '../errors.ts';
import type { JobEvent, JobOutcome, JobQueue, JobStatus, RenderJob } from '../core/ports/job-queue.ts';
import type { ModelCatalog, ModelSummary } from '../core/ports/model-catalog.ts';
import { PromptVocabulary } from '../core/prompt-vocabulary.ts';
import { processLogger } from '../logging/logger.ts';
import { BullmqJobQueue, type BullmqJobQueueOptions } from './bullmq-job-queue.ts';
import type { RenderResult } from './job-wire.ts';
import type { ModelScale } from './job-cost.ts';
import { ModelRegistry, type RegisteredModel } from './model-registry.ts';
import { modelKey, modelQueueName } from './model-queue-name.ts';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME } from './queue-keys.ts';
import { redisClientOptions } from './redis-options.ts';
import { mergePrometheusText } from '../metrics/merge-prometheus-text.ts';

export interface ModelQueuesOptions extends BullmqJobQueueOptions {
  /** Where jobs that name no model go (DAILIES_MODEL; `dailies start`: the model it loads). */
  defaultModel: string;
  /**
   * How long a model may be without a live worker before its waiting jobs fail and new jobs
   * naming it are refused. Covers a worker restart or a redeploy; default 10 minutes.
   */
  unservedAfterMs?: number;
  /** How often `start()` fails the waiting jobs of unserved models and opens newly seen ones; default 20 s. */
  sweepEveryMs?: number;
}

/** How long a registry read is reused: enqueues in a burst then share one. */
const REGISTRY_TTL_MS = 1_000;
/** How long a model's prompt vocabulary is reused: it changes only when its workers are redeployed. */
const VOCABULARY_TTL_MS = 30_000;
/** Job ids whose model this process knows without asking Redis. */
const KNOWN_JOBS = 10_000;
const DAY_MS = 24 * 3_600_000;

/**
 * One queue per model: the JobQueue the bot uses when workers serve more than one model (a big
 * GPU model beside the small built-in one). Each model has its own BullmqJobQueue, so fair share,
 * the per-person cap and ETAs hold inside each queue, and a slow model's line never holds up a
 * fast one's. Workers announce their model in the ModelRegistry; a job goes to the queue of the
 * model it names, or of `defaultModel`.
 *
 * cancel, status and outcome know a job only by id, so the model of each job is written beside
 * it (`<prefix>:job-model:<id>`, kept as long as the queue keeps finished jobs). A job without one
 * (queued before models had queues of their own) is looked for in the default model's queue.
 *
 * Nobody waits forever: a job naming a model no worker has served for `unservedAfterMs` is
 * refused, and the sweep fails jobs left waiting that long for a model whose workers are gone.
 */
export class ModelQueues implements JobQueue, ModelCatalog {
  readonly registry: ModelRegistry;
  private readonly redis: Redis;
  private readonly base: string;
  private readonly prefix: string;
  private readonly unservedAfterMs: number;
  private readonly retainMs: number;
  /** By model key (model-queue-name.ts), and each queue's model as first named. */
  private readonly queues = new Map<string, BullmqJobQueue>();
  private readonly names = new Map<BullmqJobQueue, string>();
  private readonly listeners = new Map<(event: JobEvent) => void, Array<() => void>>();
  private readonly jobModels = new Map<string, string>();
  private registryRead: { at: number; models: Promise<RegisteredModel[]> } | undefined;
  private readonly vocabularyReads = new Map<string, { at: number; vocabulary: Promise<PromptVocabulary | null> }>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;
  private closed = false;

  constructor(private readonly options: ModelQueuesOptions) {
    this.base = options.queueName ?? DEFAULT_QUEUE_NAME;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.unservedAfterMs = options.unservedAfterMs ?? 10 * 60_000;
    this.retainMs = options.retainFinishedMs ?? 7 * DAY_MS;
    this.redis = new Redis({ ...redisClientOptions(options.redis, 'producer'), enableAutoPipelining: true });
    this.redis.on('error', options.onError ?? ((e) => processLogger().warn('queue: Redis connection error', e)));
    this.registry = new ModelRegistry(this.redis, this.prefix);
  }

  get defaultModel(): string {
    return this.options.defaultModel;
  }

  async enqueue(job: RenderJob): Promise<JobStatus> {
    const model = await this.resolve(job.model ?? this.options.defaultModel);
    const queue = await this.open(model);
    await this.remember(job.jobId, model);
    return queue.enqueue({ ...job, model });
  }

  async cancel(jobId: string): Promise<boolean> {
    return (await this.queueOfJob(jobId)).cancel(jobId);
  }

  async status(jobId: string): Promise<JobStatus> {
    return (await this.queueOfJob(jobId)).status(jobId);
  }

  async outcome(jobId: string): Promise<JobOutcome> {
    return (await this.queueOfJob(jobId)).outcome(jobId);
  }

  onEvent(listener: (event: JobEvent) => void): () => void {
    this.listeners.set(listener, [...this.queues.values()].map((q) => q.onEvent(listener)));
    return () => {
      for (const off of this.listeners.get(listener) ?? []) off();
      this.listeners.delete(listener);
    };
  }

  /** Opens the queue of every model seen lately and of the default, and resolves once all their event streams are read. */
  async eventsReady(): Promise<void> {
    const models = await this.registered(true);
    await Promise.all([this.options.defaultModel, ...models.map((m) => m.name)].map((name) => this.open(name)));
  }

  async resolve(name: string): Promise<string> {
    const wanted = modelKey(name);
    const now = Date.now();
    const usable = (m: RegisteredModel | undefined) => m !== undefined && now - m.liveUntil < this.unservedAfterMs;
    let found = (await this.registered()).find((m) => modelKey(m.name) === wanted);
    // The cached read may predate the model's first worker: a refusal is always read afresh.
    if (!usable(found)) found = (await this.registered(true)).find((m) => modelKey(m.name) === wanted);
    if (found && usable(found)) return found.name;
    const isDefault = wanted === modelKey(this.options.defaultModel);
    // The default before its first worker ever started (a fresh install, a bot up before its
    // workers): its jobs wait, and the sweep ends them if no worker comes.
    if (!found && isDefault) return this.options.defaultModel;
    if (found) {
      throw new DailiesError('bad_input', `No worker has rendered with "${found.name}" for ${span(now - found.liveUntil)}; pick a model that /models lists, or ask an operator to start its workers.`);
    }
    throw new DailiesError('bad_input', `No worker renders with "${name}"; /models lists the models you can use.`);
  }

  async list(): Promise<ModelSummary[]> {
    const models = await this.registered(true);
    const names = models.map((m) => m.name);
    if (!names.some((n) => modelKey(n) === modelKey(this.options.defaultModel))) names.unshift(this.options.defaultModel);
    const now = Date.now();
    const summaries = await Promise.all(
      names.map(async (name): Promise<ModelSummary> => {
        const queue = await this.open(name);
        const seen = models.find((m) => m.name === name);
        const live = seen !== undefined && seen.liveUntil > now;
        const [pool, waiting, averageRenderMs] = await Promise.all([live ? queue.stats.live() : { workers: 0, slots: 0 }, queue.fair.waitingCount(now), queue.stats.averageDurationMs()]);
        return { name, isDefault: modelKey(name) === modelKey(this.options.defaultModel), ...pool, waiting, averageRenderMs, lastSeenAt: seen ? Math.min(seen.liveUntil, now) : null };
      }),
    );
    return summaries.sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
  }

  async promptVocabulary(model: string = this.options.defaultModel): Promise<PromptVocabulary | null> {
    const key = modelKey(model);
    const now = Date.now();
    const cached = this.vocabularyReads.get(key);
    if (cached && now - cached.at <= VOCABULARY_TTL_MS) return cached.vocabulary;
    const read = {
      at: now,
      vocabulary: this.registry.storedVocabulary(model).then(
        (stored) => checkedVocabulary(model, stored),
        (error: unknown) => {
          // Replies go on with the built-in words; a failed read is not kept, the next reply asks again.
          if (this.vocabularyReads.get(key) === read) this.vocabularyReads.delete(key);
          processLogger().warn(`queue: could not read the prompt vocabulary of "${model}"; replies use the built-in words`, error);
          return null;
        },
      ),
    };
    this.vocabularyReads.set(key, read);
    return read.vocabulary;
  }

  /** The default model's step and frame defaults, as its workers publish them (work budgets are counted in them). */
  async modelScale(): Promise<ModelScale | null> {
    return (await this.open(this.options.defaultModel)).modelScale();
  }

  /** Live render slots per model, for /metrics. */
  async liveSlots(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const m of await this.list()) out[m.name] = m.slots;
    return out;
  }

  /** BullMQ's exposition of every model's queue, each line labelled with its model, as one valid text. */
  async prometheusText(): Promise<string> {
    await this.eventsReady();
    const texts = await Promise.all([...this.queues].map(([, queue]) => queue.prometheusText({ model: this.modelOfQueue(queue) })));
    return mergePrometheusText(texts);
  }

  /** The BullMQ queues open in this process, for the operators' dashboard. */
  dashboardQueues(): Queue<RenderJob, RenderResult>[] {
    return [...this.queues.values()].map((q) => q.dashboardQueue());
  }

  /**
   * Fails the jobs that have waited `unservedAfterMs` for a model no worker has served in that
   * time, and opens the queues of models first seen since the last sweep (so this process hears
   * their events). Several bots may sweep at once: each job ends once. Returns how many ended.
   */
  async sweep(): Promise<number> {
    const now = Date.now();
    const cutoff = now - this.unservedAfterMs;
    const models = await this.registered(true);
    for (const m of models) await this.open(m.name);
    let ended = 0;
    for (const [key, queue] of this.queues) {
      const name = this.modelOfQueue(queue);
      const liveUntil = models.find((m) => modelKey(m.name) === key)?.liveUntil ?? 0;
      if (liveUntil > cutoff) continue;
      ended += await queue.failWaiting(cutoff, 'unserved', `No worker rendered with "${name}" for ${span(this.unservedAfterMs)}, so this render was stopped; try again later, or pick a model that /models lists.`);
    }
    return ended;
  }

  start(): void {
    if (this.timer) return;
    const run = () => {
      this.sweeping ??= this.sweep()
        .catch((e: unknown) => processLogger().warn('queue: the unserved-model sweep failed', e))
        .finally(() => {
          this.sweeping = undefined;
        });
    };
    this.timer = setInterval(run, this.options.sweepEveryMs ?? 20_000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.sweeping;
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** The queue of `model` (its workers' queue when they announced one), opened once, with this process's listeners on it. */
  private async open(model: string): Promise<BullmqJobQueue> {
    const key = modelKey(model);
    let queue = this.queues.get(key);
    if (!queue) {
      const announced = (await this.registered()).find((m) => modelKey(m.name) === key)?.queueName;
      queue = this.queues.get(key) ?? new BullmqJobQueue({ ...this.options, queueName: announced ?? modelQueueName(this.base, model) });
      if (!this.queues.has(key)) {
        this.queues.set(key, queue);
        this.names.set(queue, model);
        for (const [listener, offs] of this.listeners) offs.push(queue.onEvent(listener));
      }
    }
    if (this.listeners.size) await queue.eventsReady();
    return queue;
  }

  private modelOfQueue(queue: BullmqJobQueue): string {
    return this.names.get(queue) ?? 'unknown';
  }

  private async queueOfJob(jobId: string): Promise<BullmqJobQueue> {
    let model = this.jobModels.get(jobId);
    if (model === undefined) {
      model = (await this.redis.get(this.jobModelKey(jobId))) ?? this.options.defaultModel;
      this.cache(jobId, model);
    }
    return this.open(model);
  }

  private async remember(jobId: string, model: string): Promise<void> {
    this.cache(jobId, model);
    await this.redis.set(this.jobModelKey(jobId), model, 'PX', this.retainMs);
  }

  private cache(jobId: string, model: string): void {
    this.jobModels.set(jobId, model);
    if (this.jobModels.size > KNOWN_JOBS) this.jobModels.delete(this.jobModels.keys().next().value!);
  }

  private jobModelKey(jobId: string): string {
    return `${this.prefix}:job-model:${jobId}`;
  }

  private registered(fresh = false): Promise<RegisteredModel[]> {
    const now = Date.now();
    if (fresh || !this.registryRead || now - this.registryRead.at > REGISTRY_TTL_MS) {
      const models = this.registry.list(now);
      // A failed read is not kept: the next call asks again.
      models.catch(() => (this.registryRead = undefined));
      this.registryRead = { at: now, models };
    }
    return this.registryRead.models;
  }
}

/** A stored vocabulary that is not valid JSON or fails the schema is not trusted: the built-in words are used. */
function checkedVocabulary(model: string, stored: string | null): PromptVocabulary | null {
  if (stored === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(stored);
  } catch {
    // Not JSON: `raw` stays undefined, which the schema refuses below.
  }
  const parsed = PromptVocabulary.safeParse(raw);
  if (parsed.success) return parsed.data;
  processLogger().warn(`queue: the stored prompt vocabulary of "${model}" is not valid; replies use the built-in words until its workers publish a valid one`);
  return null;
}

/** "20 minutes", "1 minute", "45 seconds": how long a model has gone unserved, for a sentence. */
function span(ms: number): string {
  const [n, unit] = ms >= 60_000 ? [Math.round(ms / 60_000), 'minute'] : [Math.max(1, Math.round(ms / 1000)), 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
