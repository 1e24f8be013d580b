import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadModel } from '../../models/engine/load-model.ts';
import { OnnxSession } from '../../models/engine/ort.ts';
import type { Clip, PreviewEvent, VideoModel } from '../../src/core/ports/video-model.ts';
import { CPU, makeClip, maxAbsDiff, meanAbsDiff, rejection, TINY_LATENT_CLIP, TINY_LATENT_JSON } from './engine-fixtures.ts';

// tiny-latent: diffusers layout, 4-channel latents at 1/8 size, UNet weights in external data,
// int64 timestep of shape [1]. Both variants share weights; only the tokenizer files differ.
const models: VideoModel[] = [];
afterAll(async () => Promise.all(models.map((m) => m.dispose())));
const open = async (dir: string) => {
  const m = await loadModel(dir, CPU);
  models.push(m);
  return m;
};

describe.each([
  ['CLIP slow tokenizer files, linear preview map', TINY_LATENT_CLIP, 4],
  ['tokenizer.json, VAE previews', TINY_LATENT_JSON, 32],
])('latent pipeline with %s', (_name, dir, previewSize) => {
  it('decodes frames at 8x the latent size and previews at the requested steps', async () => {
    const model = await open(dir);
    const previews: PreviewEvent[] = [];
    const steps: number[] = [];
    const r = await model.generate(
      { prompt: 'a red circle moving left', seed: 9, steps: 4, frames: 5, variations: 2, previewSteps: [1, 3] },
      { onStep: (e) => steps.push(e.step), onPreview: (p) => void previews.push(p) },
    );
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(r.takes).toHaveLength(2);
    for (const take of r.takes) {
      expect(take.clip).toMatchObject({ width: 32, height: 32, fps: 8 });
      // 5 frames with frameBatch 3 (clip-slow) exercises a partial last decoder chunk.
      expect(take.clip.frames).toHaveLength(5);
      take.clip.frames.forEach((f) => expect(f.length).toBe(32 * 32 * 3));
    }
    expect(previews.map((p) => p.step)).toEqual([1, 3]);
    for (const p of previews) {
      expect(p.takes).toHaveLength(2);
      expect(p.takes[0]).toMatchObject({ width: previewSize, height: previewSize });
      expect(p.takes[0]!.frames).toHaveLength(5);
    }
  });

  it('renders take i of a batch as seed + i rendered alone', async () => {
    const model = await open(dir);
    const batch = await model.generate({ prompt: 'a blue square', seed: 30, variations: 2 });
    const alone = await model.generate({ prompt: 'a blue square', seed: 31 });
    batch.takes[1]!.clip.frames.forEach((f, i) => expect(maxAbsDiff(f, alone.takes[0]!.clip.frames[i]!)).toBeLessThanOrEqual(1));
    expect(meanAbsDiff(batch.takes[0]!.clip.frames[0]!, batch.takes[1]!.clip.frames[0]!)).toBeGreaterThan(5);
  });

  it('skips the unconditional half when guidance is at most 1, which changes the result', async () => {
    const model = await open(dir);
    const a = await model.generate({ prompt: 'a blue square', seed: 2, guidance: 1 });
    const b = await model.generate({ prompt: 'a blue square', seed: 2, guidance: 5 });
    expect(Buffer.concat(a.takes[0]!.clip.frames).equals(Buffer.concat(b.takes[0]!.clip.frames))).toBe(false);
  });
});

describe('latent pipeline across tokenizer variants', () => {
  it('renders identical videos from the slow files and from tokenizer.json', async () => {
    const [slow, fast] = await Promise.all([open(TINY_LATENT_CLIP), open(TINY_LATENT_JSON)]);
    const request = { prompt: "A Yellow STAR, spinning quickly! (zebra's)", seed: 4, steps: 2 };
    const a = await slow.generate(request);
    const b = await fast.generate(request);
    expect(Buffer.concat(a.takes[0]!.clip.frames).equals(Buffer.concat(b.takes[0]!.clip.frames))).toBe(true);
  });

  it('starts from an image through the VAE encoder when the folder has one', async () => {
    const model = await open(TINY_LATENT_JSON);
    const image = makeClip(20, 20, 1, (_f, x, y, c) => (x * 12 + y * 5 + c * 70) % 256);
    const r = await model.generate({ prompt: 'a red circle', seed: 1, steps: 4, image: { frame: image, strength: 0.5 } });
    expect(r.takes[0]!.clip.frames).toHaveLength(4);
  });

  it('keeps known frames at both ends through the VAE encoder, each take its own head', async () => {
    const model = await open(TINY_LATENT_JSON);
    const heads = [0, 1].map((b) => makeClip(32, 32, 1, (_f, x, y, c) => (b * 100 + x * 12 + y * 5 + c * 70) % 256));
    const tail = makeClip(20, 20, 2, (f, x, y, c) => (f * 60 + x * 3 + y * 9 + c * 40) % 256);
    const render = (seed: number) => model.generate({ prompt: 'a red circle', seed, steps: 4, frames: 5, variations: 2, known: { head: heads, tail: [tail] } });
    const [a, b] = [await render(1), await render(2)];
    // Known frames follow their encoded latents down to the last step, which the model finishes:
    // whatever the seed they come back nearly the same, while the new frame in between differs.
    for (const take of [0, 1]) {
      const [fa, fb] = [a.takes[take]!.clip.frames, b.takes[take]!.clip.frames];
      expect(fa).toHaveLength(5);
      const newFrame = meanAbsDiff(fa[1]!, fb[1]!);
      for (const f of [0, 3, 4]) expect(meanAbsDiff(fa[f]!, fb[f]!)).toBeLessThan(newFrame / 10); // measured 3-5 against 75-85
    }
    // Each take decodes its own head.
    expect(meanAbsDiff(a.takes[0]!.clip.frames[0]!, a.takes[1]!.clip.frames[0]!)).toBeGreaterThan(1);
  });

  it('starts the new frames from their nearest known latent below strength 1', async () => {
    const model = await open(TINY_LATENT_JSON);
    const head = makeClip(32, 32, 1, (_f, x, y, c) => (x * 12 + y * 5 + c * 70) % 256);
    const tail = makeClip(32, 32, 1, (_f, x, y, c) => (250 - x * 6 + y * 3 + c * 40) % 256);
    const render = async (known: { head?: Clip[]; tail?: Clip[] }, strength: number) =>
      (await model.generate({ prompt: 'a red circle', seed: 3, steps: 10, frames: 5, known: { ...known, strength } })).takes[0]!.clip.frames;
    // The decoder works frame by frame, so a new frame that keeps its known frame's latent decodes
    // to the known frame as the model shows it (frame 0 going forward, frame 4 going backward).
    const [forward, backward] = [await render({ head: [head] }, 0.1), await render({ tail: [tail] }, 0.1)];
    const [freeForward, freeBackward] = [await render({ head: [head] }, 1), await render({ tail: [tail] }, 1)];
    // (Random weights: one last step still moves the latent a little; from noise, anywhere.)
    for (const f of [1, 2, 3, 4]) {
      expect(meanAbsDiff(forward[f]!, forward[0]!)).toBeLessThan(5);
      expect(meanAbsDiff(freeForward[f]!, freeForward[0]!)).toBeGreaterThan(30);
    }
    for (const f of [0, 1, 2, 3]) {
      expect(meanAbsDiff(backward[f]!, backward[4]!)).toBeLessThan(5);
      expect(meanAbsDiff(freeBackward[f]!, freeBackward[4]!)).toBeGreaterThan(30);
    }
  });

  it('encodes lookback frames through the VAE below strength 1 only, a shared clip once', async () => {
    const model = await open(TINY_LATENT_JSON);
    const clip = (frames: number, shade: number) => makeClip(32, 32, frames, (f, x, y, c) => (shade + f * 20 + x * 4 + y * 2 + c * 50) % 256);
    const [head, earlier, mine] = [clip(1, 0), clip(5, 90), clip(5, 170)];
    // Frames through the VAE encoder, counted on the real session (the spy calls through).
    const run = vi.spyOn(OnnxSession.prototype, 'run');
    const encoded = async (known: { earlier?: Clip[] }, strength: number, variations = 1) => {
      run.mockClear();
      const r = await model.generate({ prompt: 'a red circle', seed: 3, steps: 4, frames: 4, variations, known: { head: [head], ...known, strength } });
      const byEncoder = run.mock.calls.filter((_, i) => (run.mock.contexts[i] as OnnxSession).label === 'VAE encoder');
      const frames = byEncoder.reduce((n, [feeds]) => n + Object.values(feeds)[0]!.dims[0]!, 0);
      return { frames, bytes: Buffer.concat(r.takes.flatMap((t) => t.clip.frames)) };
    };
    try {
      expect((await encoded({}, 0.5)).frames).toBe(1);
      expect((await encoded({ earlier: [earlier] }, 0.5)).frames).toBe(6);
      expect((await encoded({ earlier: [earlier] }, 0.5, 2)).frames).toBe(6);
      expect((await encoded({ earlier: [earlier, mine] }, 0.5, 2)).frames).toBe(11);
      // At strength 1 the new frames start from noise: the lookback costs nothing and changes nothing.
      const [plain, looked] = [await encoded({}, 1), await encoded({ earlier: [earlier] }, 1)];
      expect(looked.frames).toBe(1);
      expect(looked.bytes.equals(plain.bytes)).toBe(true);
    } finally {
      run.mockRestore();
    }
  });

  it('explains that a latent model without a VAE encoder cannot start from an image or keep known frames', async () => {
    const model = await open(TINY_LATENT_CLIP);
    const image = makeClip(32, 32, 1, () => 128);
    const expected =
      'Model tiny-latent-clip-slow has no VAE encoder, so it cannot start from an image or keep known frames (extend or bridge a clip); drop that option or use a model folder with vae_encoder/model.onnx.';
    for (const request of [{ image: { frame: image, strength: 0.5 } }, { known: { tail: [image] } }]) {
      const e = await rejection(model.generate({ prompt: 'a red circle', seed: 1, ...request }));
      expect(e.code).toBe('bad_input');
      expect(e.message).toBe(expected);
    }
  });
});
