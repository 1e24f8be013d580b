import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import type { JobEvent } from '../../src/core/ports/job-queue.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { ThreadedVideoModel } from '../../workers/threaded-video-model.ts';
import { RenderWorker } from '../../workers/worker.ts';
import { createGradientTestModel, gradientEngineSpec, type GradientTestModelOptions } from './fixtures/gradient-test-model.ts';
import { rawTestMedia } from './fixtures/raw-test-media.ts';
import { renderJob, testQueue, waitFor } from './fixtures/redis-test-env.ts';

// The engine blocks whichever thread runs it, as CPU-bound inference does (Atomics.wait per step).
const BLOCKING: GradientTestModelOptions = { steps: 6, stepDelayMs: 1000, blocking: true, previewSteps: [] };
const LOCK_MS = 2000;

describe('long renders keep their lock', () => {
  const env = testQueue();
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-lock-'));
  });
  afterAll(async () => {
    await env.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  function worker(id: string, createModel: () => Promise<import('../../src/core/ports/video-model.ts').VideoModel>, queueName = env.queueName) {
    return new RenderWorker({
      redis: env.redis,
      queueName,
      prefix: env.prefix,
      workerId: id,
      createModel,
      media: rawTestMedia(),
      store: new FsArtifactStore({ root: dir }),
      lockDurationMs: LOCK_MS,
      stalledIntervalMs: 500,
      log: () => {},
    });
  }

  it('runs a 6 s render under a 2 s lock once, without a stall, when the engine is in a thread', async () => {
    const queue = new BullmqJobQueue({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, positionUpdates: false });
    const events: JobEvent[] = [];
    queue.onEvent((e) => events.push(e));
    await queue.eventsReady();
    const stalled: string[] = [];
    const raw = new QueueEvents(env.queueName, { connection: env.redis, prefix: env.prefix });
    raw.on('stalled', ({ jobId }) => stalled.push(jobId));
    await raw.waitUntilReady();
    const workers = [1, 2].map((n) => worker(`threaded-${n}`, () => ThreadedVideoModel.start(gradientEngineSpec(BLOCKING))));
    try {
      await Promise.all(workers.map((w) => w.start()));
      const job = renderJob();
      const started = Date.now();
      await queue.enqueue(job);
      await waitFor(() => events.some((e) => e.type === 'completed' && e.jobId === job.jobId), 30_000, 'completion');
      expect(Date.now() - started).toBeGreaterThan(3 * LOCK_MS);
      expect(stalled).toEqual([]);
      expect(events.filter((e) => e.type === 'started' && e.jobId === job.jobId)).toHaveLength(1);
      expect(events.filter((e) => e.type === 'completed' && e.jobId === job.jobId)).toHaveLength(1);
      const bull = new Queue(env.queueName, { connection: env.redis, prefix: env.prefix });
      const stored = await bull.getJob(job.jobId);
      expect(stored?.attemptsStarted).toBe(1);
      expect(stored?.stalledCounter ?? 0).toBe(0);
      await bull.close();
    } finally {
      await Promise.all(workers.map((w) => w.close(1000)));
      await raw.close();
      await queue.close();
    }
  });

  it('(control) the same render on the worker thread itself does stall', async () => {
    const queueName = `${env.queueName}-control`;
    const queue = new BullmqJobQueue({ redis: env.redis, queueName, prefix: env.prefix, positionUpdates: false });
    const stalled: string[] = [];
    const raw = new QueueEvents(queueName, { connection: env.redis, prefix: env.prefix });
    raw.on('stalled', ({ jobId }) => stalled.push(jobId));
    await raw.waitUntilReady();
    const blocking = worker('in-process', () => createGradientTestModel({ ...BLOCKING, steps: 3 }), queueName);
    try {
      await blocking.start();
      const job = renderJob();
      await queue.enqueue(job);
      await waitFor(() => stalled.includes(job.jobId), 30_000, 'a stalled event');
      await queue.cancel(job.jobId);
    } finally {
      await blocking.close(100);
      await raw.close();
      await queue.close();
    }
  });
});
