import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinFrameCheckDir } from '../../models/frame-check/frame-check-setting.ts';
import { isDailiesError } from '../../src/errors.ts';
import { startThreadedFrameCheck } from '../../workers/threaded-frame-check.ts';

/**
 * The frame check in its own thread: onnxruntime runs a graph on the calling thread, so on the
 * worker's main thread a check would stall BullMQ's lock renewals for its whole run.
 */
describe('the threaded frame check', () => {
  const solid = (r: number, g: number, b: number, size = 64) => {
    const rgb = new Uint8Array(size * size * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([r, g, b], i);
    return { width: size, height: size, rgb };
  };

  it('gives the same verdicts as the classifier, and keeps the event loop free while the shipped one runs', async () => {
    const red = await startThreadedFrameCheck(path.resolve('test/fixtures/frame-check-red'));
    expect(red.name).toBe('frame-check-red');
    expect((await red.check([solid(220, 40, 40)])).flagged?.label).toBe('red');
    expect((await red.check([solid(40, 70, 220)])).flagged).toBeNull();
    await red.close();

    const nsfw = await startThreadedFrameCheck(builtinFrameCheckDir(), { threads: 1 });
    const frames = Array.from({ length: 32 }, (_, i) => solid(10 * i, 100, 200 - i));
    let maxLag = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    const verdict = await nsfw.check(frames);
    const ms = performance.now() - started;
    clearInterval(timer);
    expect(verdict.frames).toBe(32);
    expect(verdict.flagged).toBeNull();
    // 32 frames take the classifier hundreds of ms; the event loop stays within a fraction of that.
    expect(maxLag).toBeLessThan(Math.max(100, ms / 3));
    await nsfw.close();
  }, 60_000);

  it('fails to start with the loader sentence for a bad folder, and refuses checks after close', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-threaded-check-'));
    try {
      await copyFile('test/fixtures/frame-check-red/model.onnx', path.join(dir, 'model.onnx'));
      await writeFile(path.join(dir, 'classifier.json'), JSON.stringify({ labels: ['red'], input: { size: [32, 32], layout: 'NHWC', scale: 1 / 255 }, block: { blue: 0.5 } }));
      const error = await startThreadedFrameCheck(dir).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isDailiesError(error) && error.code).toBe('model_invalid');
      expect((error as Error).message).toMatch(/block\.blue is not one of the labels \(red\)\.$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const check = await startThreadedFrameCheck(path.resolve('test/fixtures/frame-check-red'));
    await check.close();
    await expect(check.check([solid(1, 2, 3)])).rejects.toThrow('The frame check is closed.');
  }, 60_000);
});
