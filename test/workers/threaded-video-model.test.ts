import { describe, expect, it } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import { ThreadedVideoModel } from '../../workers/threaded-video-model.ts';
import { gradientEngineSpec } from './fixtures/gradient-test-model.ts';

describe('ThreadedVideoModel', () => {
  it('loads a TypeScript engine module in a worker thread and renders there', async () => {
    const model = await ThreadedVideoModel.start(gradientEngineSpec({ steps: 3, stepDelayMs: 5, previewSteps: [2] }));
    try {
      expect(model.name).toBe('gradient-test-double');
      const steps: number[] = [];
      const previews: number[] = [];
      const result = await model.generate(
        { prompt: 'x', seed: 3, variations: 2 },
        { onStep: (e) => steps.push(e.step), onPreview: (e) => void previews.push(e.takes.length) },
      );
      expect(steps).toEqual([1, 2, 3]);
      expect(previews).toEqual([2]);
      expect(result.takes.map((t) => t.seed)).toEqual([3, 4]);
      const clip = result.takes[0]!.clip;
      expect(clip.frames).toHaveLength(8);
      expect(clip.frames[0]!.length).toBe(clip.width * clip.height * 3);
      // Frames really move: consecutive frames differ.
      expect(Buffer.compare(Buffer.from(clip.frames[0]!), Buffer.from(clip.frames[1]!))).not.toBe(0);
    } finally {
      await model.dispose();
    }
  });

  it('keeps the calling thread free while the engine blocks its own', async () => {
    const model = await ThreadedVideoModel.start(gradientEngineSpec({ steps: 5, stepDelayMs: 200, blocking: true }));
    try {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 50);
      await model.generate({ prompt: 'x', seed: 1 });
      clearInterval(timer);
      // ~1 s of blocked engine; the main loop kept ticking.
      expect(ticks).toBeGreaterThanOrEqual(12);
    } finally {
      await model.dispose();
    }
  });

  it('stops within one step on abort, as the engine reports it', async () => {
    const model = await ThreadedVideoModel.start(gradientEngineSpec({ steps: 100, stepDelayMs: 30 }));
    try {
      const controller = new AbortController();
      let after = 0;
      const pending = model.generate({ prompt: 'x', seed: 1 }, {
        signal: controller.signal,
        onStep: (e) => {
          if (controller.signal.aborted) after++;
          if (e.step === 3) controller.abort('cancelled');
        },
      });
      const error = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DailiesError);
      expect((error as DailiesError).code).toBe('cancelled');
      expect(after).toBeLessThanOrEqual(1);
      expect(model.alive).toBe(true);
    } finally {
      await model.dispose();
    }
  });

  it('terminates an engine that ignores the abort, and says it is gone', async () => {
    const model = await ThreadedVideoModel.start(gradientEngineSpec({ steps: 1000, stepDelayMs: 20, ignoreAbort: true }), { abortGraceMs: 200 });
    const controller = new AbortController();
    const pending = model.generate({ prompt: 'x', seed: 1 }, { signal: controller.signal });
    setTimeout(() => controller.abort('cancelled'), 50);
    const error = await pending.catch((e: unknown) => e);
    expect((error as DailiesError).code).toBe('cancelled');
    expect(model.alive).toBe(false);
    const next = await model.generate({ prompt: 'x', seed: 1 }).catch((e: unknown) => e);
    expect((next as DailiesError).code).toBe('unavailable');
    expect((next as DailiesError).retryable).toBe(true);
    await model.dispose();
  });

  it('rejects with the loader error when the model cannot be built', async () => {
    const error = await ThreadedVideoModel.start({ ...gradientEngineSpec(), exportName: 'noSuchExport' }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/no function export "noSuchExport"/);
  });
});

describe('ThreadedVideoModel with the real engine module', () => {
  it('imports models/engine/load-model.ts in the thread and passes its errors back as DailiesErrors', async () => {
    const { engineSpec, parseWorkerArgs } = await import('../../cli/worker.ts');
    const args = parseWorkerArgs(['--model', '/nonexistent/model-dir'], {});
    const error = await ThreadedVideoModel.start(engineSpec(args as Exclude<typeof args, 'help'>)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DailiesError);
    expect((error as DailiesError).code).toBe('not_found');
    expect((error as DailiesError).message).toMatch(/^No model at \/nonexistent\/model-dir/);
  });
});
