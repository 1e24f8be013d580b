import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../models/engine/load-model.ts';
import type { SchedulerFactory } from '../../models/engine/pipeline.ts';
import { chwToRgb, rgbToChw } from '../../models/engine/pixels.ts';
import { createScheduler } from '../../models/engine/schedulers/index.ts';
import type { Clip, GenerateResult, PreviewEvent, VideoModel } from '../../src/core/ports/video-model.ts';
import { copyFixture, CPU, editJson, makeClip, maxAbsDiff, meanAbsDiff, rejection, removeTemps, TINY_PIXEL, TINY_PIXEL_FP16 } from './engine-fixtures.ts';

// tiny-pixel: random weights, pixel space, 4 frames of 16x16, BFCHW, float32 timestep per row.
let model: VideoModel;
beforeAll(async () => {
  model = await loadModel(TINY_PIXEL, CPU);
});
afterAll(async () => {
  await model.dispose();
  await removeTemps();
});

const bytes = (r: GenerateResult) => Buffer.concat(r.takes.flatMap((t) => t.clip.frames));
const bytesOf = (frames: Uint8Array[]) => Buffer.concat(frames);

describe('pixel-space pipeline', () => {
  // ddpm adds fresh noise at every step: it too must be a function of the seed alone.
  it.each(['dpmpp-2m', 'ddpm'] as const)('renders the same bytes for the same seed and settings (%s)', async (scheduler) => {
    const request = { prompt: 'a red circle moving left', seed: 11, steps: 3, guidance: 3, scheduler };
    const a = await model.generate(request);
    const b = await model.generate(request);
    expect(a.takes).toHaveLength(1);
    expect(a.takes[0]!.clip).toMatchObject({ width: 16, height: 16, fps: 8 });
    expect(a.takes[0]!.clip.frames).toHaveLength(4);
    expect(bytes(a).equals(bytes(b))).toBe(true);
    expect(bytes(a).equals(bytes(await model.generate({ ...request, seed: 12 })))).toBe(false);
    expect(bytes(a).equals(bytes(await model.generate({ ...request, prompt: 'a blue square' })))).toBe(false);
  });

  it.each(['dpmpp-2m', 'ddpm'] as const)('renders take i of a batch as seed + i rendered alone (%s)', async (scheduler) => {
    const batch = await model.generate({ prompt: 'a green triangle', seed: 20, variations: 3, guidance: 2, scheduler });
    expect(batch.takes.map((t) => t.seed)).toEqual([20, 21, 22]);
    const alone = await model.generate({ prompt: 'a green triangle', seed: 22, guidance: 2, scheduler });
    batch.takes[2]!.clip.frames.forEach((f, i) => expect(maxAbsDiff(f, alone.takes[0]!.clip.frames[i]!)).toBeLessThanOrEqual(1));
    // The comparison means something only if takes differ from each other.
    expect(meanAbsDiff(batch.takes[0]!.clip.frames[0]!, batch.takes[2]!.clip.frames[0]!)).toBeGreaterThan(10);
  });

  it('samples differently with ddpm than with ddim on the same grid and start noise: its steps add noise', async () => {
    const request = { prompt: 'a red circle moving left', seed: 11, steps: 4, guidance: 3 };
    const ddim = await model.generate({ ...request, scheduler: 'ddim' });
    const ddpm = await model.generate({ ...request, scheduler: 'ddpm' });
    expect(meanAbsDiff(ddim.takes[0]!.clip.frames[0]!, ddpm.takes[0]!.clip.frames[0]!)).toBeGreaterThan(1);
    // One step has no step after it to add noise to: both land on the first estimate.
    const once = { ...request, steps: 1 };
    expect(bytes(await model.generate({ ...once, scheduler: 'ddim' })).equals(bytes(await model.generate({ ...once, scheduler: 'ddpm' })))).toBe(true);
  });

  it('keeps an image-to-video result close to the image at low strength, and less so at high strength', async () => {
    const image = makeClip(12, 12, 1, (_f, x, y, c) => (c === 0 ? 200 : c === 1 ? x * 20 : y * 20));
    const target = chwToRgb(rgbToChw(image.frames[0]!, 12, 12, 16, 16), 16, 16);
    const distance = async (strength: number) => {
      const r = await model.generate({ prompt: 'a red circle', seed: 3, steps: 10, image: { frame: image, strength } });
      expect(r.takes[0]!.clip.frames).toHaveLength(4);
      return Math.max(...r.takes[0]!.clip.frames.map((f) => meanAbsDiff(f, target)));
    };
    const low = await distance(0.1);
    const high = await distance(1);
    expect(low).toBeLessThan(3);
    expect(high).toBeGreaterThan(30);
  });

  it('keeps known frames at both ends of the window, per take or shared, and fills the frames between', async () => {
    // Take 0 and take 1 each continue their own clip (head), and both lead into one clip (tail).
    const heads = [0, 1].map((b) => makeClip(16, 16, 2, (f, x, y, c) => (b * 90 + f * 40 + x * 7 + y * 3 + c * 50) % 256));
    const tail = makeClip(16, 16, 1, (_f, x, y, c) => (x * 11 + y * 13 + c * 30) % 256);
    const previews: PreviewEvent[] = [];
    const request = { prompt: 'a red circle', seed: 5, frames: 6, variations: 2, known: { head: heads, tail: [tail] }, previewSteps: [1] };
    const r = await model.generate(request, { onPreview: (p) => void previews.push(p) });
    r.takes.forEach((take, b) => {
      const frames = take.clip.frames;
      expect(frames).toHaveLength(6);
      // Known frames come back as the model finished them from their own content at the last
      // step: close to what was given (a few levels), unlike the new frames between them.
      expect(meanAbsDiff(frames[0]!, heads[b]!.frames[0]!)).toBeLessThan(3);
      expect(meanAbsDiff(frames[1]!, heads[b]!.frames[1]!)).toBeLessThan(3);
      expect(meanAbsDiff(frames[5]!, tail.frames[0]!)).toBeLessThan(3);
      for (const f of [2, 3, 4]) expect(meanAbsDiff(frames[f]!, heads[b]!.frames[1]!)).toBeGreaterThan(10);
    });
    // Previews show the clean known frames, not their noised copies in the running sample.
    expect(maxAbsDiff(previews[0]!.takes[1]!.frames[0]!, heads[1]!.frames[0]!)).toBe(0);
    expect(maxAbsDiff(previews[0]!.takes[1]!.frames[5]!, tail.frames[0]!)).toBe(0);
    // Take 1 is take 1 rendered alone with its own known frames: each take reads its own clip.
    const alone = await model.generate({ ...request, seed: 6, variations: 1, known: { head: [heads[1]!], tail: [tail] } });
    alone.takes[0]!.clip.frames.forEach((f, i) => expect(maxAbsDiff(f, r.takes[1]!.clip.frames[i]!)).toBeLessThanOrEqual(1));
  });

  it('starts the new frames from their nearest known frame below strength 1, and from noise at 1', async () => {
    // Nothing moves in these known frames, so nothing is carried on (carried-motion.ts).
    const head = makeClip(16, 16, 2, (_f, x, y, c) => (x * 7 + y * 3 + c * 50) % 256);
    const tail = makeClip(16, 16, 1, (_f, x, y, c) => (200 + x * 11 - y * 13 + c * 30) % 256);
    const render = async (known: { head?: Clip[]; tail?: Clip[] }, strength: number) =>
      (await model.generate({ prompt: 'a red circle', seed: 5, steps: 10, frames: 6, known: { ...known, strength } })).takes[0]!.clip.frames;
    // Strength 0.1 of 10 steps keeps the last one: the new frames stay where they started.
    const forward = await render({ head: [head] }, 0.1);
    for (const f of [2, 3, 4, 5]) expect(meanAbsDiff(forward[f]!, head.frames[1]!)).toBeLessThan(3);
    const backward = await render({ tail: [tail] }, 0.1);
    for (const f of [0, 1, 2, 3, 4]) expect(meanAbsDiff(backward[f]!, tail.frames[0]!)).toBeLessThan(3);
    // Between a head and a tail: a cross-fade from the last head frame (1) to the tail (5).
    const bridge = await render({ head: [head], tail: [tail] }, 0.1);
    const [a, b] = [head.frames[1]!, tail.frames[0]!];
    for (const f of [2, 3, 4]) {
      const w = (f - 1) / 4;
      expect(meanAbsDiff(bridge[f]!, a.map((v, k) => Math.round((1 - w) * v + w * b[k]!)))).toBeLessThan(3);
    }
    expect(meanAbsDiff(bridge[1]!, a)).toBeLessThan(3);
    expect(meanAbsDiff(bridge[5]!, b)).toBeLessThan(3);
    // Strength 1 (the default) starts them from noise, as before.
    const free = await render({ head: [head] }, 1);
    expect(bytesOf(free)).toEqual(bytesOf((await model.generate({ prompt: 'a red circle', seed: 5, steps: 10, frames: 6, known: { head: [head] } })).takes[0]!.clip.frames));
    for (const f of [2, 3, 4, 5]) expect(meanAbsDiff(free[f]!, head.frames[1]!)).toBeGreaterThan(30);
  });

  it('starts the new frames below strength 1 with what moved in the known frames carried on', async () => {
    // A white 4x4 square on black stepping right 1 px a frame over three known frames.
    const square = (left: number) => (x: number, y: number) => (x >= left && x < left + 4 && y >= 6 && y < 10 ? 255 : 0);
    const head = makeClip(16, 16, 3, (f, x, y) => square(2 + f)(x, y));
    const frames = (await model.generate({ prompt: 'a white square', seed: 5, steps: 10, frames: 8, known: { head: [head], strength: 0.1 } })).takes[0]!.clip.frames;
    // Each new frame is the square one more pixel on, where the old start (a copy of frame 2) had it still.
    for (const f of [3, 5, 7]) {
      const expected = makeClip(16, 16, 1, (_f, x, y) => square(2 + f)(x, y)).frames[0]!;
      expect(meanAbsDiff(frames[f]!, expected)).toBeLessThan(5);
    }
    // Three and five pixels on from the last known frame: 24 and 32 of its 256 pixels changed.
    expect(meanAbsDiff(frames[5]!, head.frames[2]!)).toBeGreaterThan(15);
    expect(meanAbsDiff(frames[7]!, head.frames[2]!)).toBeGreaterThan(25);
  });

  it('carries on an object seen only in the lookback frames below strength 1, and ignores them at 1', async () => {
    // A white 4x4 square on black stepping right 1 px a frame, its left edge at 10 + t: it leaves
    // at the right edge during the lookback (t 0..5) and the known head (t 6, 7) shows only black.
    const square = (t: number) => (x: number, y: number) => (x >= 10 + t && x < 14 + t && y >= 6 && y < 10 ? 255 : 0);
    const earlier = makeClip(16, 16, 6, (t, x, y) => square(t)(x, y));
    const head = makeClip(16, 16, 2, (t, x, y) => square(6 + t)(x, y));
    expect(head.frames.every((f) => f.every((v) => v === 0))).toBe(true);
    const render = async (known: { earlier?: Clip[] }, strength: number) =>
      (await model.generate({ prompt: 'a white square', seed: 5, steps: 10, frames: 8, known: { head: [head], ...known, strength } })).takes[0]!.clip.frames;
    // Strength 0.1 of 10 steps keeps the last one: the new frames stay where they started.
    const alone = await render({}, 0.1);
    const looked = await render({ earlier: [earlier] }, 0.1);
    // Without the lookback nothing moved in the known frames: the new frames start black.
    for (const f of [2, 4, 7]) expect(meanAbsDiff(alone[f]!, head.frames[1]!)).toBeLessThan(3);
    // With it the square goes on, coming back through the left edge: 16 white pixels of 256 once whole.
    const brightest = Math.max(...[2, 3, 4, 5, 6, 7].map((f) => meanAbsDiff(looked[f]!, alone[f]!)));
    expect(brightest).toBeGreaterThan(8);
    const left = (f: Uint8Array) => f.filter((v, i) => Math.floor(i / 3) % 16 < 8 && v > 128).length;
    expect(left(looked[7]!)).toBeGreaterThan(0);
    // At strength 1 the new frames start from noise: the lookback is not read.
    expect(bytesOf(await render({ earlier: [earlier] }, 1))).toEqual(bytesOf(await render({}, 1)));
  });

  it('reads a tail\'s lookback backward, from the farthest frame to the first tail frame', async () => {
    // The mirror: after the two black tail frames (t 6, 7) the square comes in at the left edge,
    // its left edge at t - 11 (whole from t 11 on); read backward it leaves at the left.
    const square = (t: number) => (x: number, y: number) => (x >= t - 11 && x < t - 7 && y >= 6 && y < 10 ? 255 : 0);
    const tail = makeClip(16, 16, 2, (t, x, y) => square(6 + t)(x, y));
    const later = makeClip(16, 16, 6, (t, x, y) => square(8 + t)(x, y));
    expect(tail.frames.every((f) => f.every((v) => v === 0))).toBe(true);
    const render = async (known: { later?: Clip[] }) =>
      (await model.generate({ prompt: 'a white square', seed: 5, steps: 10, frames: 8, known: { tail: [tail], ...known, strength: 0.1 } })).takes[0]!.clip.frames;
    const alone = await render({});
    const looked = await render({ later: [later] });
    for (const f of [0, 3, 5]) expect(meanAbsDiff(alone[f]!, tail.frames[0]!)).toBeLessThan(3);
    expect(Math.max(...[0, 1, 2, 3, 4, 5].map((f) => meanAbsDiff(looked[f]!, alone[f]!)))).toBeGreaterThan(8);
    // Going back in time it re-enters at the right edge.
    const right = (f: Uint8Array) => f.filter((v, i) => Math.floor(i / 3) % 16 >= 8 && v > 128).length;
    expect(right(looked[0]!)).toBeGreaterThan(0);
  });

  it('puts known frames in the sample noised to each step, or clean for a denoiser trained on clean ones', async () => {
    // What the denoiser sees of known frame 0 at every step: the sample the scheduler steps from.
    const firstFrames = async (knownFrames?: 'clean') => {
      const dir = await copyFixture(TINY_PIXEL);
      if (knownFrames) await editJson(join(dir, 'model.json'), (m) => void (m.components.denoiser.knownFrames = knownFrames));
      const seen: Float32Array[] = [];
      const recording: SchedulerFactory = (name, config) => {
        const s = createScheduler(name, config);
        return {
          config: s.config,
          initNoiseSigma: s.initNoiseSigma,
          stochastic: s.stochastic,
          get timesteps() { return s.timesteps; },
          setTimesteps: (steps, strength) => s.setTimesteps(steps, strength),
          addNoise: (original, noise, t) => s.addNoise(original, noise, t),
          reset: () => s.reset(),
          step: (out, i, sample, noise) => {
            seen.push(sample.slice(0, 3 * 16 * 16)); // BFCHW: take 0, frame 0
            return s.step(out, i, sample, noise);
          },
        };
      };
      const m = await loadModel(dir, { ...CPU, createScheduler: recording });
      try {
        await m.generate({ prompt: 'a red circle', seed: 5, steps: 4, frames: 4, known: { head: [head] } });
      } finally {
        await m.dispose();
      }
      return seen;
    };
    const head = makeClip(16, 16, 1, (_f, x, y, c) => (x * 13 + y * 7 + c * 60) % 256);
    const given = rgbToChw(head.frames[0]!, 16, 16, 16, 16);
    const gap = (a: Float32Array) => Math.max(...a.map((v, k) => Math.abs(v - given[k]!)));
    const clean = await firstFrames('clean');
    expect(clean).toHaveLength(4);
    for (const frame of clean) expect(gap(frame)).toBe(0);
    // The default: at the first (noisiest) step the frame is mostly noise.
    const noised = await firstFrames();
    expect(gap(noised[0]!)).toBeGreaterThan(1);
  });

  it('resizes known frames of another size to the model size', async () => {
    const big = makeClip(24, 24, 1, (_f, x, _y, c) => (c === 0 ? 255 : x * 10));
    const r = await model.generate({ prompt: 'a red circle', seed: 5, frames: 3, known: { tail: [big] } });
    expect(meanAbsDiff(r.takes[0]!.clip.frames[2]!, chwToRgb(rgbToChw(big.frames[0]!, 24, 24, 16, 16), 16, 16))).toBeLessThan(3);
  });

  it('previews the predicted clean video at the requested steps', async () => {
    const previews: PreviewEvent[] = [];
    const steps: number[] = [];
    await model.generate({ prompt: 'a red circle', seed: 1, steps: 5, variations: 2, previewSteps: [2, 4] }, { onStep: (e) => steps.push(e.step), onPreview: (p) => void previews.push(p) });
    expect(steps).toEqual([1, 2, 3, 4, 5]);
    expect(previews.map((p) => [p.step, p.totalSteps, p.takes.length])).toEqual([
      [2, 5, 2],
      [4, 5, 2],
    ]);
    expect(previews[0]!.takes[0]).toMatchObject({ width: 16, height: 16 });
    expect(previews[0]!.takes[0]!.frames).toHaveLength(4);
  });

  it('previews the predicted clean video, which at the last step is the result itself', async () => {
    const previews: PreviewEvent[] = [];
    const r = await model.generate({ prompt: 'a red circle', seed: 8, steps: 3, previewSteps: [3] }, { onPreview: (p) => void previews.push(p) });
    expect(previews).toHaveLength(1);
    previews[0]!.takes[0]!.frames.forEach((f, i) => expect(maxAbsDiff(f, r.takes[0]!.clip.frames[i]!)).toBe(0));
  });

  it('guides as uncond + g * (cond - uncond), with the negative prompt as uncond', async () => {
    const base = { seed: 6, steps: 3 };
    const condOnly = await model.generate({ ...base, prompt: 'a red circle', guidance: 1 });
    const barelyGuided = await model.generate({ ...base, prompt: 'a red circle', negativePrompt: 'a blue square', guidance: 1.001 });
    const negativeOnly = await model.generate({ ...base, prompt: 'a blue square', guidance: 1 });
    condOnly.takes[0]!.clip.frames.forEach((f, i) => {
      expect(maxAbsDiff(f, barelyGuided.takes[0]!.clip.frames[i]!)).toBeLessThanOrEqual(2);
      expect(meanAbsDiff(f, negativeOnly.takes[0]!.clip.frames[i]!)).toBeGreaterThan(5);
    });
  });

  it('previews about four times by default and not at all when asked for none', async () => {
    const at: number[] = [];
    await model.generate({ prompt: 'a red circle', seed: 1, steps: 10 }, { onPreview: (p) => void at.push(p.step) });
    expect(at).toEqual([2, 4, 6, 8]);
    const none: number[] = [];
    await model.generate({ prompt: 'a red circle', seed: 1, steps: 3, previewSteps: [] }, { onPreview: (p) => void none.push(p.step) });
    expect(none).toEqual([]);
  });

  it('stops with "cancelled" when aborted after step 2, and reports no further step', async () => {
    const controller = new AbortController();
    const steps: number[] = [];
    const e = await rejection(
      model.generate({ prompt: 'a red circle', seed: 1, steps: 6 }, {
        signal: controller.signal,
        onStep: (s) => {
          steps.push(s.step);
          if (s.step === 2) controller.abort();
        },
      }),
    );
    expect(e.code).toBe('cancelled');
    expect(e.message).toBe('The generation was cancelled before it finished; start it again to get a video.');
    expect(steps).toEqual([1, 2]);
  });

  it('does not start when the signal is already aborted', async () => {
    const steps: number[] = [];
    const e = await rejection(model.generate({ prompt: 'a red circle', seed: 1 }, { signal: AbortSignal.abort(), onStep: (s) => void steps.push(s.step) }));
    expect(e.code).toBe('cancelled');
    expect(steps).toEqual([]);
  });

  it('reports timings for each stage', async () => {
    const r = await model.generate({ prompt: 'a red circle', seed: 1, steps: 2 });
    const t = r.timingsMs;
    expect(t.total).toBeGreaterThan(0);
    expect(t.encodePrompt + t.denoise + t.decode).toBeCloseTo(t.total, 5);
  });
});

describe('float16 graphs', () => {
  it('feeds and reads float16 tensors, matching the float32 model to half precision', async () => {
    const half = await loadModel(TINY_PIXEL_FP16, CPU);
    const request = { prompt: 'a red circle', seed: 2, steps: 3 };
    const a = await half.generate(request);
    await half.dispose();
    await half.dispose();
    expect((await rejection(half.generate(request))).code).toBe('unavailable');
    const b = await model.generate(request);
    a.takes[0]!.clip.frames.forEach((f, i) => expect(meanAbsDiff(f, b.takes[0]!.clip.frames[i]!)).toBeLessThan(1.5));
  });
});
