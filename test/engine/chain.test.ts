import { describe, expect, it } from 'vitest';
import { renderChain } from '../../models/engine/chain.ts';
import { segmentSeed } from '../../src/core/segment-plan.ts';
import type { Clip, GenerateRequest, GenerateResult, VideoModel } from '../../src/core/ports/video-model.ts';
import { CONTINUATION_STRENGTH } from '../../src/core/segment-plan.ts';
import { rejection } from './engine-fixtures.ts';

/*
 * renderChain's bookkeeping, against a stand-in model that returns its known frames where the
 * request put them and labelled new frames elsewhere: which frames each segment is given, in
 * which order segments run, and how the new frames are put together. What the real model makes
 * of the known frames is in chain-shapes.test.ts. The stand-in's frames are flat colours, which
 * the background anchor would move to the chain's first colour: it is off except in its own test.
 */

const SIZE = { width: 2, height: 2, fps: 8 };

/** A 2x2 frame whose every pixel is [a, b, c]. */
const frame = (a: number, b: number, c: number) => Uint8Array.from({ length: 12 }, (_, i) => [a, b, c][i % 3]!);
const label = (f: Uint8Array) => [f[0], f[1], f[2]];
const clip = (count: number, tag: number): Clip => ({ ...SIZE, frames: Array.from({ length: count }, (_, i) => frame(tag, 0, i)) });

/**
 * New frame i of call k for take b is [b, k, i]; like shapes-v1, it renders only full windows.
 * Known frames come back as given, or through `finish` (a model's own version of them).
 */
function standIn(window: number, finish: (f: Uint8Array) => Uint8Array = (f) => f) {
  const calls: GenerateRequest[] = [];
  const model: VideoModel = {
    name: 'stand-in',
    defaults: { frames: window, steps: 1, guidance: 1, outputSize: 2, ...SIZE, width: 2, height: 2 },
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const k = calls.push(request) - 1;
      if (request.frames !== window) throw new Error(`asked for ${request.frames} frames, not a full window of ${window}`);
      const takes = Array.from({ length: request.variations ?? 1 }, (_, b) => {
        const mine = (clips?: Clip[]) => (clips ? clips[clips.length === 1 ? 0 : b]!.frames : []);
        const [head, tail] = [mine(request.known?.head), mine(request.known?.tail)];
        const fresh = Array.from({ length: window - head.length - tail.length }, (_, i) => frame(b, k, i));
        return { seed: request.seed + b, clip: { ...SIZE, frames: [...head.map(finish), ...fresh, ...tail.map(finish)] } };
      });
      return { takes, timingsMs: { total: 1, encodePrompt: 1, denoise: 1, decode: 1 } };
    },
    dispose: async () => {},
  };
  return { model, calls };
}

const base = { prompt: 'a red circle', seed: 100 };

describe('renderChain', () => {
  it('fades its own frames beside each join into the next window’s version of them, nearer the join more', async () => {
    // The stand-in finishes known frames 30 levels up: a frame d from a join of a span of 2 takes
    // 1 - d/3 of that, so +20 right beside the join and +10 one further.
    const up = (f: Uint8Array) => f.map((v) => v + 30);
    const forward = await renderChain(standIn(4, up).model, { ...base, frames: 6 }, {}, { anchor: false, overlap: 2, window: 4 });
    expect(forward.takes[0]!.clip.frames.map(label)).toEqual([[0, 0, 0], [0, 0, 1], [10, 10, 12], [20, 20, 23], [0, 1, 0], [0, 1, 1]]);
    // Going backward the window's tail is the chain's own frames after it, mirrored.
    const backward = await renderChain(standIn(4, up).model, { ...base, frames: 6 }, { after: clip(2, 200) }, { anchor: false, overlap: 2, window: 4 });
    expect(backward.takes[0]!.clip.frames.map(label)).toEqual([[0, 2, 0], [0, 2, 1], [20, 21, 20], [10, 11, 11], [20, 20, 20], [10, 10, 11]]);
    // A clip being extended is never faded, and neither is anything when the fade is off.
    const extended = await renderChain(standIn(4, up).model, { ...base, frames: 2 }, { before: clip(2, 200) }, { anchor: false, overlap: 2, window: 4 });
    expect(extended.takes[0]!.clip.frames.map(label)).toEqual([[0, 0, 0], [0, 0, 1]]);
    const unfaded = await renderChain(standIn(4, up).model, { ...base, frames: 6 }, {}, { anchor: false, overlap: 2, window: 4, fade: false });
    expect(unfaded.takes[0]!.clip.frames.map(label)).toEqual([[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, 3], [0, 1, 0], [0, 1, 1]]);
  });

  it('keeps every frame it makes at the background colour it starts with; a bridge keeps its own', async () => {
    const fromNothing = await renderChain(standIn(4).model, { ...base, frames: 10 }, {}, { overlap: 2, window: 4 });
    expect(fromNothing.takes[0]!.clip.frames.map(label)).toEqual(Array.from({ length: 10 }, () => [0, 0, 0]));
    const extended = await renderChain(standIn(4).model, { ...base, frames: 6 }, { before: clip(2, 200) }, { overlap: 2, window: 4 });
    expect(extended.takes[0]!.clip.frames.map(label)).toEqual(Array.from({ length: 6 }, () => [200, 0, 1]));
    const led = await renderChain(standIn(4).model, { ...base, frames: 6 }, { after: clip(2, 90) }, { overlap: 2, window: 4 });
    expect(led.takes[0]!.clip.frames.map(label)).toEqual(Array.from({ length: 6 }, () => [90, 0, 0]));
    const bridged = await renderChain(standIn(6).model, { ...base, frames: 2 }, { before: clip(2, 200), after: clip(2, 90) }, { overlap: 2, window: 6 });
    expect(bridged.takes[0]!.clip.frames.map(label)).toEqual([[0, 0, 0], [0, 0, 1]]);
  });

  it('continues each take from its own frames, the first segment from the shared clip', async () => {
    const { model, calls } = standIn(4);
    const segments: [number, number][] = [];
    const r = await renderChain(model, { ...base, frames: 10, variations: 2 }, { before: clip(3, 200) }, { anchor: false, overlap: 1, window: 4, onSegment: (k, n) => segments.push([k, n]) });
    expect(segments).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    // 3 + 3 + 3 new frames after one known frame each, then the last window takes 3 known frames
    // to make 1 new one.
    for (const b of [0, 1]) {
      expect(r.takes[b]!.seed).toBe(100 + b);
      expect(r.takes[b]!.clip.frames.map(label)).toEqual([
        [b, 0, 0], [b, 0, 1], [b, 0, 2], [b, 1, 0], [b, 1, 1], [b, 1, 2], [b, 2, 0], [b, 2, 1], [b, 2, 2], [b, 3, 0],
      ]);
    }
    // Both takes start from the clip's last frame: one clip, which a latent model encodes once.
    expect(calls[0]!.known!.head!.map((c) => c.frames.map(label))).toEqual([[[200, 0, 2]]]);
    // Later segments: take b's own last frames.
    expect(calls[1]!.known!.head!.map((c) => c.frames.map(label))).toEqual([[[0, 0, 2]], [[1, 0, 2]]]);
    expect(calls[3]!.known!.head!.map((c) => c.frames.map(label))).toEqual([
      [[0, 2, 0], [0, 2, 1], [0, 2, 2]],
      [[1, 2, 0], [1, 2, 1], [1, 2, 2]],
    ]);
    expect(calls.every((c) => c.known!.tail === undefined)).toBe(true);
    // A new stretch of noise per segment, the plain render's seed first.
    expect(calls.map((c) => c.seed)).toEqual([0, 1, 2, 3].map((k) => segmentSeed(100, k)));
    expect(calls[0]!.seed).toBe(100);
  });

  it('extends backward from the end towards the start, returning the new frames in time order', async () => {
    const { model, calls } = standIn(4);
    const r = await renderChain(model, { ...base, frames: 5 }, { after: clip(3, 200) }, { anchor: false, overlap: 1, window: 4 });
    // The window next to the clip first, leading into its first frame; then the one before it.
    expect(calls.map((c) => [c.known?.head, c.known?.tail?.[0]!.frames.map(label)])).toEqual([
      [undefined, [[200, 0, 0]]],
      [undefined, [[0, 0, 0], [0, 0, 1]]],
    ]);
    expect(r.takes[0]!.clip.frames.map(label)).toEqual([[0, 1, 0], [0, 1, 1], [0, 0, 0], [0, 0, 1], [0, 0, 2]]);
  });

  it('bridges two clips in full windows, known frames at both ends of the last', async () => {
    const { model, calls } = standIn(16);
    // 10 new frames do not fit between 4 + 4 known ones, so two windows; the first is filled
    // with more of `from` (segment-plan once sent a shorter window here, which shapes-v1 refuses).
    const r = await renderChain(model, { ...base, frames: 10 }, { before: clip(16, 200), after: clip(16, 201) }, { anchor: false, overlap: 4, window: 16 });
    expect(calls.map((c) => c.frames)).toEqual([16, 16]);
    expect(calls.map((c) => c.known?.tail?.[0]!.frames.length)).toEqual([undefined, 4]);
    expect(calls[1]!.known!.tail![0]!.frames.map(label)).toEqual([0, 1, 2, 3].map((i) => [201, 0, i]));
    expect(r.takes[0]!.clip.frames).toHaveLength(10);
  });

  it('gives each segment the frames before its head (or after its tail) as lookback below strength 1', async () => {
    const { model, calls } = standIn(4);
    const frames = (c: Clip) => c.frames.map(label);
    await renderChain(model, { ...base, frames: 7, variations: 2 }, { before: clip(3, 200) }, { anchor: false, overlap: 1, window: 4, strength: 0.5 });
    // Segment 1: the clip's frames before the known last one, the same for both takes: one clip.
    expect(calls[0]!.known!.earlier!.map(frames)).toEqual([[[200, 0, 0], [200, 0, 1]]]);
    // Segment 2: per take, everything before its known frame, the clip's then its own.
    expect(calls[1]!.known!.earlier!.map(frames)).toEqual([0, 1].map((b) => [[200, 0, 0], [200, 0, 1], [200, 0, 2], [b, 0, 0], [b, 0, 1]]));
    expect(calls.every((c) => c.known!.later === undefined)).toBe(true);
    // Backward: the frames after the tail, its own and then the clip's.
    const back = standIn(4);
    await renderChain(back.model, { ...base, frames: 5 }, { after: clip(3, 201) }, { anchor: false, overlap: 1, window: 4, strength: 0.5 });
    expect(back.calls.map((c) => [c.known!.earlier, c.known!.later?.map(frames)])).toEqual([
      [undefined, [[[201, 0, 1], [201, 0, 2]]]],
      [undefined, [[[0, 0, 2], [201, 0, 0], [201, 0, 1], [201, 0, 2]]]],
    ]);
    // At strength 1 the model would not read it: none is sent.
    const full = standIn(4);
    await renderChain(full.model, { ...base, frames: 7 }, { before: clip(3, 200), after: clip(3, 201) }, { anchor: false, overlap: 1, window: 4, strength: 1 });
    expect(full.calls.every((c) => c.known!.earlier === undefined && c.known!.later === undefined)).toBe(true);
  });

  it('animates a still in the first segment only', async () => {
    const { model, calls } = standIn(4);
    const image = { frame: clip(1, 7), strength: 0.5 };
    await renderChain(model, { ...base, frames: 6, image }, {}, { anchor: false, overlap: 1, window: 4 });
    expect(calls.map((c) => [c.image !== undefined, c.known !== undefined])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('starts every segment with known frames at the continuation strength, or the one asked for', async () => {
    const { model, calls } = standIn(4);
    await renderChain(model, { ...base, frames: 6 }, {}, { anchor: false, overlap: 1, window: 4 });
    // The first segment has nothing to continue: no known frames, so no strength either.
    expect(calls.map((c) => c.known?.strength)).toEqual([undefined, CONTINUATION_STRENGTH]);
    await renderChain(model, { ...base, frames: 2 }, { before: clip(2, 200), after: clip(2, 201) }, { anchor: false, overlap: 1, window: 4, strength: 1 });
    expect(calls.at(-1)!.known).toMatchObject({ strength: 1 });
    const e = await rejection(renderChain(model, { ...base, frames: 3 }, { before: clip(2, 200) }, { anchor: false, overlap: 1, window: 4, strength: 0 }));
    expect(e.message).toBe('The continuation strength must be above 0 and at most 1 (got 0).');
  });

  it("starts them at the model's own strength where its package gives one", async () => {
    const { model, calls } = standIn(4);
    const own: VideoModel = { ...model, defaults: { ...model.defaults, continuationStrength: 1 } };
    await renderChain(own, { ...base, frames: 6 }, {}, { anchor: false, overlap: 1, window: 4 });
    expect(calls.map((c) => c.known?.strength)).toEqual([undefined, 1]);
  });

  it('refuses a context clip that is not at the model size', async () => {
    const { model } = standIn(4);
    const e = await rejection(renderChain(model, { ...base, frames: 3 }, { after: { ...clip(2, 1), width: 4, height: 1 } }, { anchor: false, overlap: 1, window: 4 }));
    expect(e.message).toBe("The clip after the new frames is 4x1, but stand-in renders 2x2; resize it to the model's size first.");
  });
});
