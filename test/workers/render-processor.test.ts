import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, WaitingError } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateRequest, VideoModel } from '../../src/core/ports/video-model.ts';
import type { RenderJob } from '../../src/core/ports/job-queue.ts';
import type { ProgressPayload } from '../../src/queue/job-wire.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { CANCEL_REASON, RenderProcessor, SHUTDOWN_REASON, type RenderJobHandle } from '../../workers/render-processor.ts';
import { ffmpegRenderMedia } from '../../workers/render-media.ts';
import { GradientTestModel, type GradientTestModelOptions } from './fixtures/gradient-test-model.ts';
import { renderJob } from './fixtures/redis-test-env.ts';

interface FakeJob extends RenderJobHandle {
  progress: ProgressPayload[];
  movedToWait: number;
}

function fakeJob(data: unknown, attemptsMade = 0): FakeJob {
  const job: FakeJob = {
    id: (data as RenderJob).jobId,
    data,
    attemptsMade,
    opts: { attempts: 3 },
    timestamp: Date.now() - 50,
    processedOn: Date.now(),
    progress: [],
    movedToWait: 0,
    updateProgress: async (p) => {
      job.progress.push(p);
    },
    moveToWait: async () => {
      job.movedToWait++;
      return 0;
    },
    moveToDelayed: async () => {
      throw new Error('a one-window render never hands its worker back');
    },
  };
  return job;
}

describe('RenderProcessor', () => {
  let dir: string;
  let store: FsArtifactStore;
  let cancelFlags: Set<string>;

  function processor(model: VideoModel, progressIntervalMs = 0, stallTimeoutMs?: number) {
    return new RenderProcessor({
      ...(stallTimeoutMs !== undefined && { stallTimeoutMs }),
      workerId: 'test-worker',
      acquireModel: async () => ({ model, release: () => {} }),
      media: ffmpegRenderMedia(),
      store,
      isCancelRequested: async (id) => cancelFlags.has(id),
      progressIntervalMs,
      cancelPollMs: 0,
      log: () => {},
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-processor-'));
    store = new FsArtifactStore({ root: dir });
    cancelFlags = new Set();
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('renders every take into the store with real encodes, reporting start, steps and a preview first', async () => {
    const data = renderJob({ request: { takes: 2 } });
    const job = fakeJob(data);
    const model = new GradientTestModel({ steps: 4, stepDelayMs: 10, previewSteps: [2] });
    const result = await processor(model).process(job, 'token', undefined);

    expect(result.takes.map((t) => [t.index, t.seed])).toEqual([
      [0, 7],
      [1, 8],
    ]);
    for (const take of result.takes) {
      expect(take.video.key).toBe(`renders/${data.jobId}/take-${take.index}.mp4`);
      expect(take.video.contentType).toBe('video/mp4');
      expect(take.preview.contentType).toMatch(/^image\/(webp|gif)$/);
      expect(existsSync(store.pathOf(take.video.key))).toBe(true);
      expect(take.video.bytes).toBeGreaterThan(0);
    }
    expect(job.progress[0]).toEqual({ kind: 'started', workerId: 'test-worker', attempt: 1 });
    expect(job.progress.filter((p) => p.kind === 'step').map((p) => (p as { step: number }).step)).toEqual([1, 2, 3, 4]);
    const preview = job.progress.find((p) => p.kind === 'preview');
    expect(preview).toMatchObject({ kind: 'preview', step: 2, totalSteps: 4 });
    expect((preview as { previews: unknown[] }).previews).toHaveLength(2);
    expect(result.timingsMs).toMatchObject({ generate: expect.any(Number), encode: expect.any(Number), total: expect.any(Number) });
  });

  it('throttles step progress for chat platforms', async () => {
    const job = fakeJob(renderJob());
    await processor(new GradientTestModel({ steps: 10, stepDelayMs: 5, previewSteps: [] }), 10_000).process(job, 't', undefined);
    // The first step (nothing sent yet) and the last one always go out; the rest fall inside the interval.
    expect(job.progress.filter((p) => p.kind === 'step').map((p) => (p as { step: number }).step)).toEqual([1, 10]);
  });

  it('gives final renders twice the model default steps', async () => {
    const job = fakeJob(renderJob({ request: { quality: 'final' } }));
    await processor(new GradientTestModel({ steps: 3, stepDelayMs: 1, previewSteps: [] })).process(job, 't', undefined);
    expect(job.progress.filter((p) => p.kind === 'step').at(-1)).toEqual({ kind: 'step', step: 6, totalSteps: 6 });
  });

  it('fetches the image to animate from the store and decodes it', async () => {
    const png = path.join(dir, 'red.png');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=red:s=20x12', '-frames:v', '1', png]);
    const artifact = await store.putFile('inputs/red.png', png, 'image/png');
    let seen: GenerateRequest | undefined;
    const model = new GradientTestModel({ steps: 1, stepDelayMs: 1, previewSteps: [] });
    const spy: VideoModel = { name: model.name, defaults: model.defaults, dispose: async () => {}, generate: (r, o) => ((seen = r), model.generate(r, o)) };
    await processor(spy).process(fakeJob(renderJob({ request: { image: { artifact, strength: 0.6 } } })), 't', undefined);
    expect(seen?.image?.strength).toBe(0.6);
    expect([seen?.image?.frame.width, seen?.image?.frame.height]).toEqual([20, 12]);
    const [r, g, b] = seen!.image!.frame.frames[0]!;
    expect(r).toBeGreaterThan(200);
    expect(Math.max(g!, b!)).toBeLessThan(50);
  });

  it('fails a bad payload for good', async () => {
    const error = await processor(new GradientTestModel())
      .process(fakeJob({ ...renderJob(), v: 9 }), 't', undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/^\[bad_input\] Render job: v /);
  });

  it.each<[string, GradientTestModelOptions, RegExp]>([
    ['policy refusals', { failFirst: 1, failCode: 'policy_refused', failRetryable: false }, /^\[policy_refused\]/],
    ['invalid models', { failFirst: 1, failCode: 'model_invalid', failRetryable: false }, /^\[model_invalid\]/],
  ])('never retries %s', async (_what, options, message) => {
    const job = fakeJob(renderJob());
    const error = await processor(new GradientTestModel(options)).process(job, 't', undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(message);
    expect(job.progress.some((p) => p.kind === 'retrying')).toBe(false);
  });

  it('hands transient failures back for a retry, announcing it unless it was the last attempt', async () => {
    const job = fakeJob(renderJob());
    const error = await processor(new GradientTestModel({ failFirst: 1 })).process(job, 't', undefined).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/^\[unavailable\]/);
    expect(job.progress.at(-1)).toMatchObject({ kind: 'retrying', code: 'unavailable' });

    const last = fakeJob(renderJob(), 2);
    await processor(new GradientTestModel({ failFirst: 1 })).process(last, 't', undefined).catch(() => {});
    expect(last.progress.some((p) => p.kind === 'retrying')).toBe(false);
  });

  it('refuses a job for another model', async () => {
    const error = await processor(new GradientTestModel())
      .process(fakeJob(renderJob({ model: 'some-other-model' })), 't', undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/^\[model_invalid\] This worker pool renders with "gradient-test-double"/);
  });

  it('stops within one step when cancelled, and fails as cancelled without retry', async () => {
    const controller = new AbortController();
    const job = fakeJob(renderJob());
    let stepsAfterAbort = 0;
    const model = new GradientTestModel({ steps: 50, stepDelayMs: 20, previewSteps: [] });
    const watched: VideoModel = {
      name: model.name,
      defaults: model.defaults,
      dispose: async () => {},
      generate: (r, o) =>
        model.generate(r, {
          ...o,
          onStep: (e) => {
            if (controller.signal.aborted) stepsAfterAbort++;
            if (e.step === 5) controller.abort(CANCEL_REASON);
            o?.onStep?.(e);
          },
        }),
    };
    const error = await processor(watched).process(job, 't', controller.signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toBe('[cancelled] The render was cancelled.');
    expect(stepsAfterAbort).toBeLessThanOrEqual(1);
  });

  it('does not start a job whose cancel flag is already set', async () => {
    const data = renderJob();
    cancelFlags.add(data.jobId);
    const model = new GradientTestModel();
    const error = await processor(model).process(fakeJob(data), 't', undefined).catch((e: unknown) => e);
    expect((error as Error).message).toBe('[cancelled] The render was cancelled.');
    expect(model.calls).toBe(0);
  });

  it('aborts a render that stops making progress and hands it back for a retry', async () => {
    const model = new GradientTestModel();
    // As a wedged engine thread or ffmpeg: three steps, then nothing until aborted.
    const hangs: VideoModel = {
      name: model.name,
      defaults: model.defaults,
      dispose: async () => {},
      generate: (r, o) =>
        new Promise((_resolve, reject) => {
          for (let step = 1; step <= 3; step++) o?.onStep?.({ step, totalSteps: 30 });
          o?.signal?.addEventListener('abort', () => reject(o.signal!.reason), { once: true });
        }),
    };
    const job = fakeJob(renderJob());
    const started = Date.now();
    const error = await processor(hangs, 0, 300).process(job, 't', undefined).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toBe('[unavailable] The render stopped making progress on its worker (nothing for 1 min).');
    expect(job.progress.at(-1)).toMatchObject({ kind: 'retrying', code: 'unavailable' });
  });

  it('puts a job interrupted by shutdown back in the queue without failing it', async () => {
    const controller = new AbortController();
    const job = fakeJob(renderJob());
    setTimeout(() => controller.abort(SHUTDOWN_REASON), 60);
    const error = await processor(new GradientTestModel({ steps: 50, stepDelayMs: 20 }))
      .process(job, 't', controller.signal)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitingError);
    expect(job.movedToWait).toBe(1);
  });
});
