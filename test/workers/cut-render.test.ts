import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyseClip, type ClipReading, type Vocabulary } from '../../models/eval/analyse-clip.ts';
import type { Clip } from '../../src/core/ports/video-model.ts';
import type { CutSpec, RenderJob, TakeResult } from '../../src/core/ports/job-queue.ts';
import { decodeClip } from '../../src/media/index.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { FADE_SECONDS } from '../../workers/cut-render.ts';
import { ffmpegRenderMedia } from '../../workers/render-media.ts';
import { RenderProcessor, type RenderJobHandle } from '../../workers/render-processor.ts';
import { countingBuiltinModel, type CountingModel } from './fixtures/builtin-model.ts';
import { renderJob } from './fixtures/redis-test-env.ts';

// Films from finished takes (request.cut) through the render processor: three shots rendered by
// the built-in model, joined by cuts, fades and a generated bridge, read back from the pixels.

const vocabulary = JSON.parse(readFileSync(new URL('../../models/shapes-v1/vocabulary.json', import.meta.url), 'utf8')) as Vocabulary;

const SHOTS = [
  'a red circle still on a blue background',
  'a yellow square still on a black background',
  'a white circle still on a green background',
];

function fakeJob(data: RenderJob): RenderJobHandle {
  return {
    id: data.jobId,
    data,
    attemptsMade: 0,
    opts: { attempts: 3 },
    timestamp: Date.now(),
    processedOn: Date.now(),
    updateProgress: async () => {},
    moveToWait: async () => 0,
    moveToDelayed: async () => {},
  };
}

const range = (clip: Clip, from: number, to: number): Clip => ({ ...clip, frames: clip.frames.slice(from, to) });
const colours = (r: ClipReading) => ({ background: r.background, object: r.object });

describe('cut jobs: a film of finished shots (built-in model, ffmpeg)', () => {
  let dir: string;
  let store: FsArtifactStore;
  let model: CountingModel;
  let processor: RenderProcessor;
  let shots: TakeResult[];
  let readings: ClipReading[];

  const film = async (cut: Omit<CutSpec, 'shots'> & { shots?: number[] }, frames?: number) => {
    const spec: CutSpec = { ...cut, shots: (cut.shots ?? [0, 1, 2]).map((s) => ({ artifact: shots[s]!.video, label: `shot ${s + 1}`, prompt: SHOTS[s]! })) };
    const data = renderJob({ request: { prompt: 'the film', takes: 2, cut: spec, ...(frames ? { frames } : {}) } });
    const result = await processor.process(fakeJob(data), 't', undefined);
    expect(result.takes).toHaveLength(1);
    const clip = await decodeClip(await store.localPath(result.takes[0]!.video), { size: { width: 32, height: 32 } });
    return { take: result.takes[0]!, clip };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-cut-'));
    store = new FsArtifactStore({ root: dir });
    model = await countingBuiltinModel({ outputSize: 64 });
    processor = new RenderProcessor({
      workerId: 'cut-test',
      acquireModel: async () => ({ model, release: () => {} }),
      media: ffmpegRenderMedia(),
      store,
      isCancelRequested: async () => false,
      progressIntervalMs: 0,
      log: () => {},
    });
    // The shots: one-window renders, as finished takes are.
    shots = [];
    readings = [];
    for (const [i, prompt] of SHOTS.entries()) {
      const result = await processor.process(fakeJob(renderJob({ request: { prompt, seed: 11 + i } })), 't', undefined);
      shots.push(result.takes[0]!);
      readings.push(analyseClip(await decodeClip(await store.localPath(result.takes[0]!.video), { size: { width: 32, height: 32 } }), vocabulary));
    }
    // Three different pictures, or the test could not tell the shots apart.
    expect(new Set(readings.map((r) => r.background)).size).toBe(3);
  }, 60_000);
  afterAll(async () => {
    await model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('cuts the shots back to back, in order, each with its own colours', async () => {
    const calls = model.calls.length;
    const { take, clip } = await film({ transition: 'cut', overlap: 4 });
    expect(model.calls.length).toBe(calls);
    expect(take).toMatchObject({ index: 0, frames: 48, fps: 8 });
    expect(clip.frames).toHaveLength(48);
    for (let s = 0; s < 3; s++) expect(colours(analyseClip(range(clip, 16 * s, 16 * s + 16), vocabulary)), `shot ${s + 1}`).toEqual(colours(readings[s]!));
  });

  it('cross-fades each join over half a second, taken from both shots', async () => {
    const fade = Math.round(FADE_SECONDS * 8);
    expect(fade).toBe(4);
    const { take, clip } = await film({ transition: 'fade', overlap: 4 });
    expect(take.frames).toBe(48 - 2 * fade);
    expect(clip.frames).toHaveLength(40);
    // Pure stretches: A 0..11, B 16..23, C 28..39; dissolves at 12..15 and 24..27.
    expect(analyseClip(range(clip, 0, 12), vocabulary).background).toBe(readings[0]!.background);
    expect(analyseClip(range(clip, 16, 24), vocabulary).background).toBe(readings[1]!.background);
    expect(analyseClip(range(clip, 28, 40), vocabulary).background).toBe(readings[2]!.background);
    // Mid-dissolve, the corner pixel lies between the two backgrounds, nearer each end at each end.
    const corner = (f: number) => [...clip.frames[f]!.subarray(0, 3)];
    const bgA = vocabulary.colours[readings[0]!.background]!;
    const bgB = vocabulary.colours[readings[1]!.background]!;
    const towardsB = (f: number) => dist(corner(f), bgA) / (dist(corner(f), bgA) + dist(corner(f), bgB));
    expect(towardsB(12)).toBeGreaterThan(0.1);
    expect(towardsB(12)).toBeLessThan(towardsB(15));
    expect(towardsB(15)).toBeLessThan(0.9);
  });

  it('bridges two shots with a generated transition between their known ends (/bridge from A to B)', async () => {
    const calls = model.calls.length;
    const { take, clip } = await film({ transition: 'bridge', overlap: 4, shots: [0, 1] });
    // A, then 16 - 2 x 4 = 8 new frames, then B.
    expect(take).toMatchObject({ frames: 40, fps: 8 });
    expect(clip.frames).toHaveLength(40);
    expect(model.calls.length - calls).toBe(1);
    const call = model.calls.at(-1)!;
    expect(call.prompt).toBe(SHOTS[1]);
    expect(call.frames).toBe(16);
    expect(call.variations).toBe(1);
    expect(call.known?.head?.[0]?.frames).toHaveLength(4);
    expect(call.known?.tail?.[0]?.frames).toHaveLength(4);
    expect(colours(analyseClip(range(clip, 0, 16), vocabulary))).toEqual(colours(readings[0]!));
    expect(colours(analyseClip(range(clip, 24, 40), vocabulary))).toEqual(colours(readings[1]!));
  });

  it('chains a bridge longer than one window, the known tail on its last segment only', async () => {
    const calls = model.calls.length;
    const { take, clip } = await film({ transition: 'bridge', overlap: 4, shots: [1, 2] }, 20);
    expect(take.frames).toBe(16 + 20 + 16);
    expect(clip.frames).toHaveLength(52);
    const made = model.calls.slice(calls);
    expect(made.length).toBe(2);
    expect(made.map((c) => [c.known?.head?.[0]?.frames.length ?? 0, c.known?.tail?.[0]?.frames.length ?? 0])).toEqual([
      [4, 0],
      [expect.any(Number), 4],
    ]);
    expect(colours(analyseClip(range(clip, 36, 52), vocabulary))).toEqual(colours(readings[2]!));
  });
});

function dist(a: number[], b: readonly number[]): number {
  return Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
}
