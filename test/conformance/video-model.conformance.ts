import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clip, GenerateRequest, GenerateResult, PreviewEvent, StepEvent, VideoModel } from '../../src/core/ports/video-model.ts';
import { DailiesError } from '../../src/errors.ts';

/**
 * The contract of the engine seam, for every VideoModel: the diffusion pipeline, the threaded
 * wrapper the workers use, and the test doubles worker tests render with.
 *
 * Decisions this suite pins down:
 * - Take i of a batch uses seed + i, and renders what seed + i renders alone (within one level
 *   of rounding: batched inference may sum in another order); the same request renders the same
 *   bytes.
 * - onStep is called once per step with 1..N and totalSteps N, all before generate resolves.
 * - onPreview is called after exactly the requested steps, with one clip per take.
 * - An aborted signal (before or during the run) rejects with DailiesError('cancelled'), and the
 *   model still renders afterwards.
 * - After dispose, generate rejects with DailiesError('unavailable'); dispose twice is fine.
 * - Results: one clip per take in seed order, at the model's native size and fps, with the
 *   requested number of frames of width*height*3 bytes (RGB24).
 */
export interface VideoModelFixture {
  /** A loaded model; the suite disposes it (its last test checks use after dispose). */
  model: VideoModel;
  /**
   * A request (within the model's limits) whose run lasts long enough that an abort sent after
   * step 1 arrives before the last step, also across threads on a busy machine: many steps, and
   * for a fast model more frames and takes per step.
   */
  longRun: { steps: number; frames?: number; variations?: number };
  cleanup?(): Promise<void>;
}

const PROMPT = 'a red circle moving left';

function frameBytes(result: GenerateResult): Buffer {
  return Buffer.concat(result.takes.flatMap((t) => t.clip.frames));
}

function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function expectRgbFrames(clip: Clip, frames: number): void {
  expect(clip.frames).toHaveLength(frames);
  for (const frame of clip.frames) {
    expect(frame).toBeInstanceOf(Uint8Array);
    expect(frame.length).toBe(clip.width * clip.height * 3);
  }
}

async function errorOf(p: Promise<unknown>): Promise<DailiesError> {
  const error = await p.then(
    () => new Error('expected generate to reject'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DailiesError);
  return error as DailiesError;
}

export function runVideoModelConformance(name: string, factory: () => Promise<VideoModelFixture>): void {
  describe(`VideoModel conformance: ${name}`, () => {
    let fixture: VideoModelFixture;
    let model: VideoModel;

    beforeAll(async () => {
      fixture = await factory();
      model = fixture.model;
    });
    afterAll(async () => {
      await model?.dispose();
      await fixture?.cleanup?.();
    });

    const request = (r: Partial<GenerateRequest> = {}): GenerateRequest => ({ prompt: PROMPT, seed: 11, steps: 2, ...r });

    it('returns one clip per take in seed order, at native size, of RGB24 frames', async () => {
      const result = await model.generate(request({ seed: 5, variations: 2 }));
      expect(result.takes.map((t) => t.seed)).toEqual([5, 6]);
      const { width, height, fps, frames } = model.defaults;
      for (const take of result.takes) {
        expect(take.clip).toMatchObject({ width, height, fps });
        expectRgbFrames(take.clip, frames);
      }
      for (const key of ['total', 'encodePrompt', 'denoise', 'decode'] as const) expect(result.timingsMs[key]).toBeGreaterThanOrEqual(0);
    });

    it('renders the number of frames asked for', async () => {
      const result = await model.generate(request({ frames: 2 }));
      expect(result.takes).toHaveLength(1);
      expectRgbFrames(result.takes[0]!.clip, 2);
    });

    it('renders the same bytes for the same seed, and others for another seed', async () => {
      const a = await model.generate(request({ seed: 21 }));
      const b = await model.generate(request({ seed: 21 }));
      const c = await model.generate(request({ seed: 22 }));
      expect(frameBytes(a).equals(frameBytes(b))).toBe(true);
      expect(frameBytes(a).equals(frameBytes(c))).toBe(false);
    });

    it('renders take i of a batch as seed + i rendered alone', async () => {
      const batch = await model.generate(request({ seed: 30, variations: 3 }));
      expect(batch.takes.map((t) => t.seed)).toEqual([30, 31, 32]);
      const alone = await model.generate(request({ seed: 32 }));
      const frames = alone.takes[0]!.clip.frames;
      batch.takes[2]!.clip.frames.forEach((f, i) => expect(maxAbsDiff(f, frames[i]!)).toBeLessThanOrEqual(1));
      // Takes of one batch differ from each other, or the comparison above would prove nothing.
      expect(Buffer.from(batch.takes[0]!.clip.frames[0]!).equals(Buffer.from(batch.takes[2]!.clip.frames[0]!))).toBe(false);
    });

    it('calls onStep with 1..N and totalSteps N before it resolves', async () => {
      const seen: (StepEvent & { resolvedYet: boolean })[] = [];
      let resolved = false;
      const pending = model.generate(request({ steps: 3 }), { onStep: (e) => seen.push({ ...e, resolvedYet: resolved }) });
      await pending.then(() => (resolved = true));
      expect(seen).toEqual([1, 2, 3].map((step) => ({ step, totalSteps: 3, resolvedYet: false })));
    });

    it('previews after the requested steps, one clip per take', async () => {
      const previews: PreviewEvent[] = [];
      const result = await model.generate(request({ steps: 3, variations: 2, previewSteps: [1, 3] }), { onPreview: (e) => void previews.push(e) });
      expect(previews.map((p) => [p.step, p.totalSteps])).toEqual([
        [1, 3],
        [3, 3],
      ]);
      for (const preview of previews) {
        expect(preview.takes).toHaveLength(2);
        for (const clip of preview.takes) expectRgbFrames(clip, result.takes[0]!.clip.frames.length);
      }
    });

    it('previews nothing when asked for no preview steps', async () => {
      const previews: PreviewEvent[] = [];
      await model.generate(request({ steps: 2, previewSteps: [] }), { onPreview: (e) => void previews.push(e) });
      expect(previews).toEqual([]);
    });

    it("rejects with 'cancelled' when the signal is already aborted, without a step", async () => {
      const controller = new AbortController();
      controller.abort('cancelled');
      const steps: number[] = [];
      const error = await errorOf(model.generate(request(), { signal: controller.signal, onStep: (e) => steps.push(e.step) }));
      expect(error.code).toBe('cancelled');
      expect(steps).toEqual([]);
    });

    it("stops a run aborted midway with 'cancelled', and renders again afterwards", async () => {
      const controller = new AbortController();
      const steps: number[] = [];
      const run = model.generate(request(fixture.longRun), {
        signal: controller.signal,
        onStep: (e) => {
          steps.push(e.step);
          if (e.step === 1) controller.abort('cancelled');
        },
      });
      const error = await errorOf(run);
      expect(error.code).toBe('cancelled');
      expect(steps.length).toBeLessThan(fixture.longRun.steps);
      const again = await model.generate(request());
      expect(again.takes).toHaveLength(1);
    });

    // Last: it disposes the suite's model (loading another would double the suite's time for threaded models).
    it("rejects with 'unavailable' after dispose, and disposes twice without error", async () => {
      await model.dispose();
      const error = await errorOf(model.generate(request()));
      expect(error.code).toBe('unavailable');
      await expect(model.dispose()).resolves.toBeUndefined();
    });
  });
}
