import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import { computeBands, dispatchOrder, type FairJob } from '../../src/queue/fair-share.ts';
import type { JobEvent } from '../../src/core/ports/job-queue.ts';
import { PoolStats, estimateFinishAll } from '../../src/queue/pool-stats.ts';
import { renderJob, testQueue, waitFor } from '../workers/fixtures/redis-test-env.ts';

// A queue with no workers: jobs stay waiting, so order and admission can be inspected.
describe('BullmqJobQueue on real Redis', () => {
  const env = testQueue();
  let queue: BullmqJobQueue;
  const events: JobEvent[] = [];

  beforeAll(async () => {
    queue = new BullmqJobQueue({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, positionDebounceMs: 20 });
    queue.onEvent((e) => events.push(e));
    await queue.eventsReady();
  });

  afterAll(async () => {
    await queue.close();
    await env.cleanup();
  });

  it('enqueues once per job id', async () => {
    const job = renderJob({ userId: 'dup' });
    const first = await queue.enqueue(job);
    const second = await queue.enqueue(job);
    expect(first.state).toBe('waiting');
    expect(second).toEqual(first);
    const order = await queue.waitingOrder();
    expect(order.filter((p) => p.jobId === job.jobId)).toHaveLength(1);
    expect(await queue.fair.outstanding('dup')).toEqual([job.jobId]);
    await queue.cancel(job.jobId);
  });

  it('adds a job whose reservation outlived the bot that made it (died between admit and add)', async () => {
    const job = renderJob({ userId: 'died-mid-admit' });
    // What a bot killed after fair share's bookkeeping and before BullMQ's add leaves behind.
    const reserved = await queue.fair.admit({ jobId: job.jobId, userId: job.userId, channelKey: job.channelKey, shape: job.request }, 3);
    expect(reserved.kind).toBe('admitted');
    const bullJob = `${env.prefix}:${env.queueName}:${job.jobId}`;
    const redis = new Redis(env.redis);
    expect(await redis.exists(bullJob)).toBe(0);

    // The sweep's retry: BullMQ must hold the job afterwards, and only once.
    const status = await queue.enqueue(job);
    expect(status.state).toBe('waiting');
    expect(await redis.exists(bullJob)).toBe(1);
    redis.disconnect();
    expect((await queue.enqueue(job)).state).toBe('waiting');
    expect((await queue.waitingOrder()).filter((p) => p.jobId === job.jobId)).toHaveLength(1);
    expect(await queue.fair.outstanding('died-mid-admit')).toEqual([job.jobId]);
    await queue.cancel(job.jobId);
  });

  it('refuses a fourth outstanding render of one person, with the sentence people see', async () => {
    const jobs = [1, 2, 3].map(() => renderJob({ userId: 'capped' }));
    for (const job of jobs) await queue.enqueue(job);
    const fourth = renderJob({ userId: 'capped' });
    const error = await queue.enqueue(fourth).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DailiesError);
    expect((error as DailiesError).code).toBe('rate_limited');
    expect((error as DailiesError).message).toBe(
      'You already have 3 renders waiting or running; wait for one to finish or /cancel one.',
    );
    // Someone else is not affected, and cancelling one frees a place.
    const other = renderJob({ userId: 'someone-else' });
    await queue.enqueue(other);
    expect(await queue.cancel(jobs[0]!.jobId)).toBe(true);
    expect((await queue.enqueue(fourth)).state).toBe('waiting');
    for (const job of [...jobs.slice(1), fourth, other]) await queue.cancel(job.jobId);
  });

  it('cancels a waiting job: removed, reported, and its place freed', async () => {
    const job = renderJob({ userId: 'canceller' });
    await queue.enqueue(job);
    expect(await queue.cancel(job.jobId)).toBe(true);
    expect((await queue.status(job.jobId)).state).toBe('cancelled');
    expect(await queue.fair.outstanding('canceller')).toEqual([]);
    await waitFor(() => events.some((e) => e.type === 'cancelled' && e.jobId === job.jobId), 5000, 'cancelled event');
    expect(await queue.cancel('never-enqueued')).toBe(false);
    expect((await queue.status('never-enqueued')).state).toBe('unknown');
  });

  it('gives every waiting job its position in the fair order and an ETA', async () => {
    const users = ['p', 'p', 'p', 'q', 'r', 'q'];
    const jobs = users.map((userId) => renderJob({ userId }));
    for (const job of jobs) await queue.enqueue(job);
    // Two live slots and a known average duration.
    await queue.stats.heartbeat('fake-worker', 2, 10_000);
    for (let i = 0; i < 3; i++) await queue.stats.recordDuration(1000);

    const order = await queue.waitingOrder();
    const ids = order.map((p) => p.jobId).filter((id) => jobs.some((j) => j.jobId === id));
    const byId = new Map(jobs.map((j) => [j.jobId, j.userId]));
    expect(ids.map((id) => byId.get(id))).toEqual(['p', 'q', 'r', 'p', 'q', 'p']);

    const etas = estimateFinishAll(order.length, [], 2, 1000);
    for (const place of order) {
      const status = await queue.status(place.jobId);
      expect(status).toEqual({ state: 'waiting', position: place.position, etaMs: etas[place.position - 1] });
    }
    await waitFor(
      () => jobs.every((j) => events.some((e) => e.type === 'queued' && e.jobId === j.jobId)),
      5000,
      'queued events for every job',
    );
    for (const job of jobs) await queue.cancel(job.jobId);
    await queue.stats.leave('fake-worker');
  });

  it("sizes each job's ETA by what it asks for once workers report their speed per work unit", async () => {
    const stats = queue.stats;
    await stats.heartbeat('sizing-worker', 1, 10_000);
    await stats.publishModelScale({ steps: 10, frames: 16 });
    // 1-take drafts (160 units each) that took 800 ms: 5 ms per unit, 800 ms per average job
    // (a full window of samples, so earlier tests' durations do not count).
    for (let i = 0; i < PoolStats.SAMPLES; i++) await stats.recordDuration(800, 160);
    const draft = renderJob({ userId: 'size-a' });
    const final4 = renderJob({ userId: 'size-b', request: { takes: 4, quality: 'final' } });
    await queue.enqueue(draft);
    await queue.enqueue(final4);
    try {
      const [d, f] = [await queue.status(draft.jobId), await queue.status(final4.jobId)];
      // One slot: the draft is first (800 ms); the 4-take finalize starts after it and takes
      // 4 x 20 steps x 16 frames x 5 ms = 6400 ms.
      expect(d).toEqual({ state: 'waiting', position: 1, etaMs: 800 });
      expect(f).toEqual({ state: 'waiting', position: 2, etaMs: 800 + 6400 });
      const order = await queue.waitingOrder();
      expect(order.find((p) => p.jobId === final4.jobId)?.etaMs).toBe(7200);
    } finally {
      for (const job of [draft, final4]) await queue.cancel(job.jobId);
      await stats.leave('sizing-worker');
    }
  });

  it('keeps the Redis order equal to the reference order through arrivals and cancellations', async () => {
    const wide = new BullmqJobQueue({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, perPersonCap: 50, positionUpdates: false });
    const outstanding: (FairJob & { id: string })[] = [];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    try {
      for (let step = 0; step < 150; step++) {
        if (outstanding.length > 5 && rand(3) === 0) {
          const [gone] = outstanding.splice(rand(outstanding.length), 1);
          expect(await wide.cancel(gone!.jobId)).toBe(true);
        } else {
          const job = renderJob({ userId: `u${rand(4)}`, channelKey: `ch${rand(3)}` });
          await wide.enqueue(job);
          outstanding.push({ id: job.jobId, jobId: job.jobId, userId: job.userId, channelKey: job.channelKey, seq: step });
        }
        const expected = dispatchOrder(outstanding, computeBands(outstanding)).map((j) => j.jobId);
        const actual = (await wide.waitingOrder()).map((p) => p.jobId);
        expect(actual).toEqual(expected);
      }
    } finally {
      for (const job of outstanding) await wide.cancel(job.jobId);
      await wide.close();
    }
  });

  it('prunes a job that finished without its worker settling it', async () => {
    const tight = new BullmqJobQueue({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, perPersonCap: 1, positionUpdates: false });
    // A bare BullMQ worker (no fair-share bookkeeping) finishes the job behind our back. It starts
    // only once enqueue() has returned: finishing before enqueue's own settle would let that
    // settle prune the job, and the state this test needs would never exist.
    const bare = new Worker(env.queueName, async () => ({ takes: [], timingsMs: {} }), { connection: env.redis, prefix: env.prefix, autorun: false });
    try {
      const first = renderJob({ userId: 'solo' });
      await tight.enqueue(first);
      void bare.run();
      await waitFor(async () => (await tight.status(first.jobId)).state === 'completed', 10_000, 'bare completion');
      await bare.close();
      expect(await tight.fair.outstanding('solo')).toEqual([first.jobId]);
      const second = renderJob({ userId: 'solo' });
      expect((await tight.enqueue(second)).state).toBe('waiting');
      expect(await tight.fair.outstanding('solo')).toEqual([second.jobId]);
      await tight.cancel(second.jobId);
    } finally {
      await bare.close();
      await tight.close();
    }
  });

  it("prunes an unsettled finished job from the front of its channel when someone else enqueues there", async () => {
    const q = new BullmqJobQueue({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, positionUpdates: false });
    // Started after enqueue() returns, for the same reason as in the test above.
    const bare = new Worker(env.queueName, async () => ({ takes: [], timingsMs: {} }), { connection: env.redis, prefix: env.prefix, autorun: false });
    const client = new Redis(env.redis);
    const band = async (jobId: string) => Number(await client.hget(`${env.prefix}:${env.queueName}:${jobId}`, 'priority'));
    try {
      const gone = renderJob({ userId: 'vanished', channelKey: 'head-check' });
      await q.enqueue(gone);
      void bare.run();
      await waitFor(async () => (await q.status(gone.jobId)).state === 'completed', 10_000, 'bare completion');
      await bare.close();
      // Nobody settled it: it still holds the first place of its channel...
      expect(await q.fair.outstanding('vanished')).toEqual([gone.jobId]);
      // ...until the next enqueue in that channel looks at the front and drops it, so the
      // newcomer gets band 1 rather than 2.
      const next = renderJob({ userId: 'newcomer', channelKey: 'head-check' });
      await q.enqueue(next);
      expect(await q.fair.outstanding('vanished')).toEqual([]);
      expect(await band(next.jobId)).toBe(1);
      await q.cancel(next.jobId);
    } finally {
      await bare.close();
      client.disconnect();
      await q.close();
    }
  });

  it('claims a delivery exactly once', async () => {
    expect(await queue.completedOnce('some-job')).toBe(true);
    expect(await queue.completedOnce('some-job')).toBe(false);
    expect(await queue.completedOnce('some-job', 'take-1')).toBe(true);
  });

  it('writes bands into BullMQ within its priority range', async () => {
    const job = renderJob({ userId: 'band' });
    await queue.enqueue(job);
    const client = new Redis(env.redis);
    try {
      const priority = Number(await client.hget(`${env.prefix}:${env.queueName}:${job.jobId}`, 'priority'));
      expect(priority).toBeGreaterThanOrEqual(1);
      expect(priority).toBeLessThanOrEqual(2_097_151);
    } finally {
      client.disconnect();
      await queue.cancel(job.jobId);
    }
  });
});
