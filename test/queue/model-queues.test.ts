import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent, RenderJob } from '../../src/core/ports/job-queue.ts';
import { ModelQueues, type ModelQueuesOptions } from '../../src/queue/model-queues.ts';
import { ModelRegistry } from '../../src/queue/model-registry.ts';
import { modelKey, modelQueueName } from '../../src/queue/model-queue-name.ts';
import { PoolStats } from '../../src/queue/pool-stats.ts';
import { QueueKeys } from '../../src/queue/queue-keys.ts';
import type { RenderResult } from '../../src/queue/job-wire.ts';
import { refusal } from '../conformance/refusal.ts';
import { renderJob, testQueue, waitFor } from '../workers/fixtures/redis-test-env.ts';

// One queue per model on real Redis: workers announce their model in the registry (as
// RenderWorker's heartbeat does), bare BullMQ workers stand for them on each model's queue.
describe('ModelQueues: one queue per model', () => {
  const env = testQueue();
  let redis: Redis;
  let registry: ModelRegistry;
  const open: ModelQueues[] = [];
  const workers: Worker[] = [];

  const queues = (options: Partial<ModelQueuesOptions> = {}) => {
    const q = new ModelQueues({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, positionUpdates: false, onError: () => {}, defaultModel: 'shapes-v1', ...options });
    open.push(q);
    return q;
  };
  /** A worker of `model` alive for `ms` more (negative: its last beat lapsed that long ago). */
  const announce = (model: string, ms = 60_000, slots = 1) =>
    Promise.all([registry.announce(model, modelQueueName(env.queueName, model), Date.now() + ms), new PoolStats(redis, new QueueKeys(env.prefix, modelQueueName(env.queueName, model))).heartbeat(`w-${model}`, slots, Math.max(ms, 1))]);
  const bareWorker = (model: string) => {
    const worker = new Worker<RenderJob, RenderResult>(modelQueueName(env.queueName, model), null, { connection: env.redis, prefix: env.prefix, autorun: false });
    worker.on('error', () => {});
    workers.push(worker);
    return worker;
  };

  beforeAll(() => {
    redis = new Redis(env.redis);
    registry = new ModelRegistry(redis, env.prefix);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await Promise.all(open.splice(0).map((q) => q.close()));
    await env.cleanup();
  });
  afterAll(() => redis.disconnect());

  it('folds model names into queue names BullMQ and dashboards can hold', () => {
    expect(modelKey(' Big T2V:1.5 ')).toBe('big-t2v-1.5');
    expect(modelQueueName('renders', 'shapes-v1')).toBe('renders.shapes-v1');
  });

  it("sends each job to its model's queue, the default model's when it names none", async () => {
    await announce('shapes-v1');
    await announce('Big-T2V');
    const q = queues();
    const plain = renderJob({ userId: 'ana' });
    const big = renderJob({ userId: 'ana', model: 'big-t2v' });
    await q.enqueue(plain);
    await q.enqueue(big);
    const token = randomUUID();
    const small = await waitFor(() => bareWorker('shapes-v1').getNextJob(token, { block: false }), 5000, 'a shapes-v1 job');
    expect(small.id).toBe(plain.jobId);
    expect(small.data.model).toBe('shapes-v1');
    const large = await waitFor(() => bareWorker('Big-T2V').getNextJob(token, { block: false }), 5000, 'a Big-T2V job');
    // The payload carries the name as the model's workers spell it.
    expect(large.id).toBe(big.jobId);
    expect(large.data.model).toBe('Big-T2V');
    expect(await bareWorker('shapes-v1').getNextJob(randomUUID(), { block: false })).toBeUndefined();
  });

  it('refuses a model no worker serves, or none has for too long, in one sentence', async () => {
    await announce('old-model', -20 * 60_000);
    const q = queues({ unservedAfterMs: 10 * 60_000 });
    const unknown = await refusal(q.enqueue(renderJob({ model: 'sora' })));
    expect(unknown.code).toBe('bad_input');
    expect(unknown.message).toBe('No worker renders with "sora"; /models lists the models you can use.');
    const gone = await refusal(q.enqueue(renderJob({ model: 'old-model' })));
    expect(gone.message).toBe('No worker has rendered with "old-model" for 20 minutes; pick a model that /models lists, or ask an operator to start its workers.');
    // A worker that restarts within the window keeps its model usable.
    await announce('restarting', -2 * 60_000);
    expect((await q.enqueue(renderJob({ model: 'restarting' }))).state).toBe('waiting');
    // The default takes jobs before its first worker ever started (they wait, see the sweep).
    expect((await q.enqueue(renderJob())).state).toBe('waiting');
  });

  it('fails jobs left waiting for a model whose workers are gone, and leaves served models alone', async () => {
    await announce('shapes-v1');
    await announce('leaving', 300);
    const q = queues({ unservedAfterMs: 1_000 });
    const events: JobEvent[] = [];
    q.onEvent((e) => events.push(e));
    await q.eventsReady();
    const stranded = renderJob({ model: 'leaving', userId: 'ana' });
    const served = renderJob({ userId: 'ben' });
    await q.enqueue(stranded);
    await q.enqueue(served);
    // Its workers stop beating 300 ms from now; nothing ends before the window has passed.
    expect(await q.sweep()).toBe(0);
    await waitFor(async () => (await q.sweep()) === 1, 5_000, 'the sweep to end the stranded job');
    const failed = await waitFor(() => events.find((e) => e.jobId === stranded.jobId && e.type === 'failed'), 5000, 'the failed event');
    expect(failed).toEqual({
      type: 'failed',
      jobId: stranded.jobId,
      willRetry: false,
      error: { code: 'unserved', message: 'No worker rendered with "leaving" for 1 second, so this render was stopped; try again later, or pick a model that /models lists.' },
    });
    expect(await q.outcome(stranded.jobId)).toMatchObject({ state: 'ended', event: { type: 'failed' } });
    expect((await q.status(served.jobId)).state).toBe('waiting');
    expect(await q.sweep()).toBe(0);
    // New jobs for it are refused from now on.
    expect((await refusal(q.enqueue(renderJob({ model: 'leaving' })))).message).toMatch(/^No worker has rendered with "leaving" for \d seconds?; pick a model that \/models lists, or ask an operator to start its workers\.$/);
  });

  it('finds a job by id from another bot process: cancel, status and outcome go to its model', async () => {
    await announce('Big-T2V');
    const first = queues();
    const job = renderJob({ model: 'Big-T2V' });
    await first.enqueue(job);
    const second = queues();
    expect(await second.status(job.jobId)).toMatchObject({ state: 'waiting', position: 1 });
    expect(await second.cancel(job.jobId)).toBe(true);
    expect(await first.outcome(job.jobId)).toEqual({ state: 'ended', event: { type: 'cancelled', jobId: job.jobId } });
    expect((await second.status('never-queued-x')).state).toBe('unknown');
  });

  it('keeps fair share inside each queue: the per-person cap counts one model at a time', async () => {
    await announce('shapes-v1');
    await announce('Big-T2V');
    const q = queues({ perPersonCap: 1 });
    await q.enqueue(renderJob({ userId: 'ana' }));
    expect((await refusal(q.enqueue(renderJob({ userId: 'ana' })))).code).toBe('rate_limited');
    expect((await q.enqueue(renderJob({ userId: 'ana', model: 'Big-T2V' }))).state).toBe('waiting');
  });

  it("reads each model's prompt vocabulary as its workers published it, and distrusts a bad one", async () => {
    const words = { motions: ['moving', 'growing', 'still'], directions: ['left', 'to the left'] };
    await registry.publishVocabulary('Big-T2V', words);
    await registry.publishVocabulary('shapes-v1', { colours: ['teal'] });
    const q = queues();
    // Looked up as model names are (any case); no name: the default model's.
    expect(await q.promptVocabulary('big-t2v')).toEqual(words);
    expect(await q.promptVocabulary()).toEqual({ colours: ['teal'] });
    expect(await q.promptVocabulary('never-seen')).toBeNull();
    // Cached briefly: a reply reads Redis at most once in a while.
    await registry.publishVocabulary('Big-T2V', null);
    expect(await q.promptVocabulary('Big-T2V')).toEqual(words);
    const fresh = queues();
    expect(await fresh.promptVocabulary('Big-T2V')).toBeNull();
    // A stored value that is not JSON, or fails the schema, reads as none.
    const key = `${env.prefix}:models:vocabularies`;
    await redis.hset(key, 'broken', '{"motions": [');
    await redis.hset(key, 'wrong', JSON.stringify({ motions: ['moving', '<script>'] }));
    await redis.hset(key, 'typo', JSON.stringify({ colors: ['red'] }));
    for (const model of ['broken', 'wrong', 'typo']) expect(await fresh.promptVocabulary(model)).toBeNull();
  });

  it("forgets a model's prompt vocabulary with the model, after 30 days unseen", async () => {
    await announce('retired', -31 * 24 * 3_600_000);
    await registry.publishVocabulary('retired', { motions: ['moving'] });
    expect(await registry.storedVocabulary('retired')).not.toBeNull();
    await registry.list();
    expect(await registry.storedVocabulary('retired')).toBeNull();
  });

  it('lists the models with their live slots, waiting jobs and the default first', async () => {
    await announce('zeta', 60_000, 2);
    await announce('alpha', -60_000);
    const q = queues();
    await q.enqueue(renderJob({ model: 'zeta' }));
    const models = await q.list();
    expect(models.map((m) => [m.name, m.isDefault, m.workers, m.slots, m.waiting])).toEqual([
      ['shapes-v1', true, 0, 0, 0],
      ['alpha', false, 0, 0, 0],
      ['zeta', false, 1, 2, 1],
    ]);
    expect(models[0]!.lastSeenAt).toBeNull();
    expect(models[1]!.lastSeenAt).toBeLessThan(Date.now() - 50_000);
    expect(q.dashboardQueues().map((d) => d.name).sort()).toEqual([`${env.queueName}.alpha`, `${env.queueName}.shapes-v1`, `${env.queueName}.zeta`]);
  });
});
