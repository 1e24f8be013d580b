import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VideoModel } from '../../src/core/ports/video-model.ts';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import type { JobEvent } from '../../src/core/ports/job-queue.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { Redis } from 'ioredis';
import { ModelRegistry } from '../../src/queue/model-registry.ts';
import { RenderWorker } from '../../workers/worker.ts';
import { GradientTestModel, type GradientTestModelOptions } from './fixtures/gradient-test-model.ts';
import { rawTestMedia } from './fixtures/raw-test-media.ts';
import { renderJob, testQueue, waitFor } from './fixtures/redis-test-env.ts';

// One in-process worker; what the bot side hears about a job, end to end through Redis.
describe('job events and retries through BullMQ', () => {
  const env = testQueue();
  let dir: string;
  let queue: BullmqJobQueue;
  let worker: RenderWorker;
  const events: JobEvent[] = [];
  // The next models the worker's slot gets, in order (one generate each).
  let script: GradientTestModelOptions[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-events-'));
    queue = new BullmqJobQueue({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, backoffMs: 100, positionDebounceMs: 20 });
    queue.onEvent((e) => events.push(e));
    await queue.eventsReady();
    const model = new GradientTestModel();
    const scripted: VideoModel = {
      name: model.name,
      defaults: model.defaults,
      dispose: async () => {},
      generate: (request, options) => new GradientTestModel(script.shift() ?? { previewSteps: [] }).generate(request, options),
    };
    worker = new RenderWorker({
      redis: env.redis,
      queueName: env.queueName,
      prefix: env.prefix,
      workerId: 'events-worker',
      createModel: async () => scripted,
      media: rawTestMedia(),
      store: new FsArtifactStore({ root: dir }),
      progressIntervalMs: 0,
      log: () => {},
    });
    await worker.start();
  });

  afterAll(async () => {
    await worker.close(1000);
    await queue.close();
    await env.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const of = (jobId: string) => events.filter((e) => e.jobId === jobId);

  it('reports queued, started, progress, previews with artifact refs, then completed', async () => {
    script = [{ steps: 4, stepDelayMs: 30, previewSteps: [2, 4] }];
    const job = renderJob({ request: { takes: 2 } });
    await queue.enqueue(job);
    await waitFor(() => of(job.jobId).some((e) => e.type === 'completed'), 15_000, 'completion');
    const types = of(job.jobId).map((e) => e.type);
    // An idle worker may take the job before its place is announced; never after it started.
    expect(types.slice(types.indexOf('started'))).not.toContain('queued');
    expect(types.indexOf('started')).toBeLessThan(types.indexOf('progress'));
    expect(types.at(-1)).toBe('completed');
    const previews = of(job.jobId).filter((e): e is Extract<JobEvent, { type: 'preview' }> => e.type === 'preview');
    expect(previews.length).toBeGreaterThanOrEqual(1);
    expect(previews[0]!.previews).toHaveLength(2);
    expect(previews[0]!.previews[0]!.key).toMatch(new RegExp(`^renders/${job.jobId}/preview-s\\d-t0\\.gif$`));
    const done = of(job.jobId).at(-1) as Extract<JobEvent, { type: 'completed' }>;
    expect(done.takes.map((t) => t.video.key)).toEqual([`renders/${job.jobId}/take-0.mp4`, `renders/${job.jobId}/take-1.mp4`]);
    expect(done.timingsMs.total).toBeGreaterThan(0);
    expect(await queue.status(job.jobId)).toEqual({ state: 'completed', position: null, etaMs: null });
    // The worker told the pool its model's defaults and how fast this job went per work unit
    // (2 takes x the model's steps x its frames), which sizes the ETAs of later jobs.
    const defaults = new GradientTestModel().defaults;
    expect(await queue.stats.modelScale()).toEqual({ steps: defaults.steps, frames: defaults.frames });
    await waitFor(() => queue.stats.averageUnitMs(), 5000, 'a per-unit duration');
    const unitMs = (await queue.stats.averageUnitMs())!;
    const wallMs = (await queue.stats.averageDurationMs())!;
    expect(unitMs * 2 * defaults.steps * defaults.frames).toBeCloseTo(wallMs, 0);
  });

  it('announces its model and queue in the registry with every heartbeat, so bots route to it', async () => {
    const redis = new Redis(env.redis);
    try {
      const models = await new ModelRegistry(redis, env.prefix).list();
      expect(models).toEqual([{ name: new GradientTestModel().name, queueName: env.queueName, liveUntil: expect.any(Number) }]);
      expect(models[0]!.liveUntil).toBeGreaterThan(Date.now());
    } finally {
      redis.disconnect();
    }
  });

  it('retries a transient failure with backoff and says so', async () => {
    script = [{ failFirst: 1 }, { previewSteps: [] }];
    const job = renderJob();
    await queue.enqueue(job);
    await waitFor(() => of(job.jobId).some((e) => e.type === 'completed'), 15_000, 'completion after a retry');
    const failed = of(job.jobId).filter((e) => e.type === 'failed');
    expect(failed).toEqual([{ type: 'failed', jobId: job.jobId, error: { code: 'unavailable', message: 'The test double was told to fail.' }, willRetry: true }]);
    expect(of(job.jobId).filter((e) => e.type === 'started').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2]);
  });

  it('fails a refused render once, for good', async () => {
    script = [{ failFirst: 1, failCode: 'policy_refused', failRetryable: false }];
    const job = renderJob();
    await queue.enqueue(job);
    await waitFor(() => of(job.jobId).some((e) => e.type === 'failed'), 15_000, 'failure');
    await new Promise((r) => setTimeout(r, 500));
    expect(of(job.jobId).filter((e) => e.type === 'failed')).toEqual([
      { type: 'failed', jobId: job.jobId, error: { code: 'policy_refused', message: 'The test double was told to fail.' }, willRetry: false },
    ]);
    expect(of(job.jobId).filter((e) => e.type === 'started')).toHaveLength(1);
    expect((await queue.status(job.jobId)).state).toBe('failed');
    expect(await queue.fair.outstanding(job.userId)).not.toContain(job.jobId);
  });
});
