import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { redisAnswers } from '../../cli/redis-connection.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import type { JobEvent } from '../../src/core/ports/job-queue.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { ChildWorker } from './fixtures/child-worker.ts';
import type { GradientTestModelOptions } from './fixtures/gradient-test-model.ts';
import { renderJob, sleep, testQueue, waitFor } from './fixtures/redis-test-env.ts';
import { freePort } from '../../src/util/free-port.ts';

// Real worker processes on real Redis. Renders are slow on purpose (a few hundred ms per step)
// so there is time to kill, cancel or restart things in the middle of them.
describe('worker pool reliability', () => {
  const env = testQueue();
  let dir: string;
  const children: ChildWorker[] = [];
  const queues: BullmqJobQueue[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-reliability-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await child.exited;
    }
    for (const queue of queues.splice(0)) await queue.close();
  });
  afterAll(async () => {
    await env.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  function startWorker(workerId: string, model: GradientTestModelOptions, extra: Partial<ChildWorker['config']> = {}, redisUrl = env.url, queueName = env.queueName): ChildWorker {
    const child = new ChildWorker({
      redisUrl,
      queueName,
      prefix: env.prefix,
      artifactsDir: dir,
      workerId,
      model,
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
      progressIntervalMs: 0,
      ...extra,
    });
    children.push(child);
    return child;
  }

  async function openQueue(redisUrl = env.url, queueName = env.queueName) {
    const queue = new BullmqJobQueue({ redis: redisOptionsFromUrl(redisUrl), queueName, prefix: env.prefix, positionUpdates: false, onError: () => {} });
    queues.push(queue);
    const events: JobEvent[] = [];
    queue.onEvent((e) => events.push(e));
    await queue.eventsReady();
    return { queue, events };
  }

  const of = (events: JobEvent[], type: JobEvent['type'], jobId: string) => events.filter((e) => e.type === type && e.jobId === jobId);

  it('finishes a render on another worker after kill -9, and the final post happens once', async () => {
    const model = { steps: 10, stepDelayMs: 300, previewSteps: [] };
    const workers = [startWorker('w-a', model), startWorker('w-b', model)];
    await Promise.all(workers.map((w) => w.ready));
    // Two bot processes see every event; the delivery claim lets only one of them post.
    const bots = [await openQueue(), await openQueue()];
    let posts = 0;
    for (const bot of bots) {
      bot.queue.onEvent((e) => {
        if (e.type === 'completed') void bot.queue.completedOnce(e.jobId).then((mine) => mine && posts++);
      });
    }
    const { queue, events } = bots[0]!;
    const job = renderJob();
    await queue.enqueue(job);

    const first = await waitFor(() => of(events, 'started', job.jobId)[0], 20_000, 'first start');
    await waitFor(() => events.some((e) => e.type === 'progress' && e.jobId === job.jobId && e.step >= 3), 20_000, 'step 3');
    const victim = workers.find((w) => w.config.workerId === (first as { workerId: string }).workerId)!;
    victim.kill('SIGKILL');
    await victim.exited;

    await waitFor(() => of(events, 'completed', job.jobId).length, 40_000, 'completion on the survivor');
    await sleep(500);
    const starts = of(events, 'started', job.jobId) as { workerId: string }[];
    expect(starts.map((s) => s.workerId)).toEqual([victim.config.workerId, workers.find((w) => w !== victim)!.config.workerId]);
    expect(of(events, 'completed', job.jobId)).toHaveLength(1);
    expect(of(bots[1]!.events, 'completed', job.jobId)).toHaveLength(1);
    expect(posts).toBe(1);
    const done = of(events, 'completed', job.jobId)[0] as Extract<JobEvent, { type: 'completed' }>;
    const store = new FsArtifactStore({ root: dir });
    expect(existsSync(await store.localPath(done.takes[0]!.video))).toBe(true);
    expect((await queue.status(job.jobId)).state).toBe('completed');
  });

  it('enqueues a duplicate job id once, even when both arrive together', async () => {
    const worker = startWorker('w-dup', { steps: 2, stepDelayMs: 50, previewSteps: [] });
    await worker.ready;
    const { queue, events } = await openQueue();
    const job = renderJob();
    const [a, b] = await Promise.all([queue.enqueue(job), queue.enqueue(job)]);
    // Both callers see the one job, wherever it is by then (an idle worker may already hold it).
    for (const status of [a, b]) expect(['waiting', 'active', 'completed']).toContain(status.state);
    await waitFor(() => of(events, 'completed', job.jobId).length, 20_000, 'completion');
    await queue.enqueue(job);
    await sleep(1_000);
    expect(of(events, 'started', job.jobId)).toHaveLength(1);
    expect(of(events, 'completed', job.jobId)).toHaveLength(1);
    const bull = new Queue(env.queueName, { connection: env.redis, prefix: env.prefix });
    expect((await bull.getJobs(['completed', 'waiting', 'prioritized', 'active'])).filter((j) => j.id === job.jobId)).toHaveLength(1);
    await bull.close();
  });

  it('stops an active render within one step of /cancel, without a retry', async () => {
    const worker = startWorker('w-cancel', { steps: 60, stepDelayMs: 200, previewSteps: [] });
    await worker.ready;
    const { queue, events } = await openQueue();
    const job = renderJob();
    await queue.enqueue(job);
    await waitFor(() => events.some((e) => e.type === 'progress' && e.jobId === job.jobId && e.step >= 3), 20_000, 'step 3');
    const stepAtCancel = Math.max(...events.filter((e) => e.type === 'progress' && e.jobId === job.jobId).map((e) => (e as { step: number }).step));
    const cancelledAt = Date.now();
    expect(await queue.cancel(job.jobId)).toBe(true);
    await waitFor(() => of(events, 'cancelled', job.jobId).length, 10_000, 'cancelled event');
    const lastStep = Math.max(...events.filter((e) => e.type === 'progress' && e.jobId === job.jobId).map((e) => (e as { step: number }).step));
    // The step running when the cancel arrived may finish; the engine checks before the next.
    expect(lastStep - stepAtCancel).toBeLessThanOrEqual(2);
    expect(Date.now() - cancelledAt).toBeLessThan(3_000);
    expect((await queue.status(job.jobId)).state).toBe('cancelled');
    await sleep(1_000);
    expect(of(events, 'started', job.jobId)).toHaveLength(1);
  });

  it('hands an unfinished render back to the queue on SIGTERM, without using an attempt', async () => {
    const model = { steps: 30, stepDelayMs: 300, previewSteps: [] };
    const first = startWorker('w-term', model, { graceMs: 500 });
    await first.ready;
    const { queue, events } = await openQueue();
    const job = renderJob();
    await queue.enqueue(job);
    await waitFor(() => events.some((e) => e.type === 'progress' && e.jobId === job.jobId && e.step >= 2), 20_000, 'step 2');
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output).toMatch(/back in the queue/);
    expect((await queue.status(job.jobId)).state).toBe('waiting');

    const second = startWorker('w-next', { ...model, stepDelayMs: 20 });
    await second.ready;
    await waitFor(() => of(events, 'completed', job.jobId).length, 30_000, 'completion on the next worker');
    expect((of(events, 'started', job.jobId) as { workerId: string; attempt: number }[]).map((s) => [s.workerId, s.attempt])).toEqual([
      ['w-term', 1],
      ['w-next', 1],
    ]);
  });

  describe('with a Redis of its own that restarts', () => {
    let redis: ChildProcess | undefined;
    let port = 0;
    let dataDir: string;

    async function startRedis(): Promise<void> {
      redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dataDir], { stdio: 'ignore' });
      await waitFor(() => redisAnswers(`redis://127.0.0.1:${port}`), 10_000, 'redis-server');
    }

    async function stopRedis(): Promise<void> {
      const child = redis;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }

    beforeAll(async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'dailies-redis-'));
      port = await freePort();
      await startRedis();
    });
    afterAll(async () => {
      await stopRedis();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('reconnects worker and queue, and the render in flight completes', async () => {
      const url = `redis://127.0.0.1:${port}`;
      const worker = startWorker('w-redis', { steps: 12, stepDelayMs: 300, previewSteps: [] }, { lockDurationMs: 30_000, stalledIntervalMs: 30_000 }, url);
      await worker.ready;
      const { queue, events } = await openQueue(url);
      const job = renderJob();
      await queue.enqueue(job);
      await waitFor(() => events.some((e) => e.type === 'progress' && e.jobId === job.jobId && e.step >= 2), 20_000, 'step 2');

      await stopRedis();
      await sleep(1_000);
      await startRedis();

      await waitFor(() => of(events, 'completed', job.jobId).length, 60_000, 'completion after the restart');
      expect((await queue.status(job.jobId)).state).toBe('completed');
      // Both sides are really back: a new job goes through end to end.
      const next = renderJob();
      await waitFor(() => queue.enqueue(next).then(() => true, () => false), 20_000, 'enqueue after the restart');
      await waitFor(() => of(events, 'completed', next.jobId).length, 30_000, 'second completion');
      expect(of(events, 'started', job.jobId)).toHaveLength(1);
    });
  });
});
