import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DelayedError, UnrecoverableError } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clip, GenerateResult, VideoModel } from '../../src/core/ports/video-model.ts';
import { anchorBackground, chainAnchor } from '../../src/core/background-anchor.ts';
import { continuationStrength, fadeAtJoin, joinFades, keptFrames, LOOKBACK_FRAMES, planSegments, type Segment } from '../../src/core/segment-plan.ts';
import type { RenderJob } from '../../src/core/ports/job-queue.ts';
import { decodeClip } from '../../src/media/index.ts';
import type { ProgressPayload } from '../../src/queue/job-wire.ts';
import { DailiesError } from '../../src/errors.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { ffmpegRenderMedia } from '../../workers/render-media.ts';
import { RenderProcessor, type RenderJobHandle } from '../../workers/render-processor.ts';
import { countingBuiltinModel, type CountingModel } from './fixtures/builtin-model.ts';
import { renderJob } from './fixtures/redis-test-env.ts';

// Chains through the render processor on the built-in model (onnxruntime) with real ffmpeg,
// without BullMQ (a stand-in job handle). Turn-taking and crashes are in chain-queue.test.ts.

interface FakeJob extends RenderJobHandle {
  sent: ProgressPayload[];
}

function fakeJob(data: RenderJob, attemptsMade = 0): FakeJob {
  const job: FakeJob = {
    id: data.jobId,
    data,
    attemptsMade,
    opts: { attempts: 3 },
    timestamp: Date.now(),
    processedOn: Date.now(),
    sent: [],
    updateProgress: async (p) => void job.sent.push(p),
    moveToWait: async () => 0,
    moveToDelayed: async () => {
      throw new Error('no queue here: a chain keeps its worker');
    },
  };
  return job;
}

/** The model's outputs too, to check what each segment was given against what came before. */
function recording(model: CountingModel): VideoModel & { outputs: GenerateResult[] } {
  const outputs: GenerateResult[] = [];
  return {
    name: model.name,
    defaults: model.defaults,
    outputs,
    dispose: async () => {},
    generate: async (request, options) => {
      const result = await model.generate(request, options);
      outputs.push(result);
      return result;
    },
  };
}

/**
 * Window j of take `take` as the run uses it: the model's output with its flat background kept
 * the colour of the run's first frame (a chain from nothing: src/core/background-anchor.ts).
 */
function window(outputs: GenerateResult[], j: number, take: number): Clip {
  const clip = outputs[j]!.takes[take]!.clip;
  const anchor = chainAnchor({ first: outputs[0]!.takes[take]!.clip.frames[0] }, clip.width, clip.height);
  return anchor ? { ...clip, frames: anchorBackground(clip.frames, clip.width, clip.height, anchor) } : clip;
}

/**
 * Take `take`'s new frames as the store holds them when segment k starts: each earlier segment's
 * kept frames, those beside a later window's head faded into its rendering of them.
 */
function storedBefore(plan: Segment[], outputs: GenerateResult[], k: number, take: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let j = 0; j < k; j++) frames.splice(plan[j]!.start, 0, ...keptFrames(plan[j]!, window(outputs, j, take)));
  for (let j = 1; j < k; j++) {
    for (const { at, fresh, distance, span } of joinFades(plan[j]!, window(outputs, j, take))) if (at >= 0 && at < plan[j]!.start) frames[at] = fadeAtJoin(frames[at]!, fresh, distance, span);
  }
  return frames;
}

const mad = (a: Uint8Array, b: Uint8Array) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length;

describe('chained renders in the render processor (built-in model, ffmpeg)', () => {
  let dir: string;
  let store: FsArtifactStore;
  let model: CountingModel;

  const processor = (m: VideoModel, cancelled = () => false, chainPreviewGapMs?: number) =>
    new RenderProcessor({
      workerId: 'chain-test',
      acquireModel: async () => ({ model: m, release: () => {} }),
      media: ffmpegRenderMedia(),
      store,
      isCancelRequested: async () => cancelled(),
      progressIntervalMs: 0,
      cancelPollMs: 0,
      ...(chainPreviewGapMs !== undefined ? { chainPreviewGapMs } : {}),
      log: () => {},
    });
  const rawFiles = (jobId: string) => (existsSync(store.pathOf(`renders/${jobId}/chain`)) ? readdirSync(store.pathOf(`renders/${jobId}/chain`)) : []);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-chain-'));
    store = new FsArtifactStore({ root: dir });
    model = await countingBuiltinModel({ outputSize: 64 });
  });
  afterAll(async () => {
    await model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('renders past one window as a chain: every frame in one MP4, each segment continuing its own take', async () => {
    const m = recording(model);
    // 16 + 12 + 12: three full windows joined by 4 known frames.
    const data = renderJob({ request: { prompt: 'a red circle moving right on a blue background', takes: 2, frames: 40 } });
    const job = fakeJob(data);
    // No least gap between previews: the quarter segments (2 and 3 of 3) preview too.
    const result = await processor(m, () => false, 0).process(job, 't', undefined);

    const plan = planSegments({ frames: 40, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 0 });
    expect(m.outputs).toHaveLength(plan.length);
    // Each segment's known head is the end of the frames its own take made before it.
    for (let k = 1; k < plan.length; k++) {
      const call = model.calls.at(-plan.length + k)!;
      expect(call.frames).toBe(16);
      expect(call.known?.head).toHaveLength(2);
      expect(call.known?.strength).toBe(continuationStrength(model.defaults)); // the package's own, 0.25 for shapes-v2
      for (let take = 0; take < 2; take++) {
        const before = window(m.outputs, k - 1, take).frames.slice(plan[k - 1]!.newAt, plan[k - 1]!.newAt + plan[k - 1]!.newFrames);
        const given = call.known!.head![take]!.frames;
        expect(given).toHaveLength(plan[k]!.head);
        given.forEach((frame, i) => expect(Buffer.from(frame).equals(Buffer.from(before[before.length - plan[k]!.head + i]!))).toBe(true));
        // Below strength 1 the frames before the known ones go too, as stored (12, then 24 of them).
        const stored = storedBefore(plan, m.outputs, k, take);
        const earlier = call.known!.earlier![take]!.frames;
        expect(earlier).toHaveLength(Math.min(LOOKBACK_FRAMES, plan[k]!.start - plan[k]!.head));
        earlier.forEach((frame, i) => expect(Buffer.from(frame).equals(Buffer.from(stored[stored.length - plan[k]!.head - earlier.length + i]!)), `segment ${k} take ${take} frame ${i}`).toBe(true));
      }
      expect(call.known?.later).toBeUndefined();
    }
    expect(result.takes.map((t) => [t.index, t.seed, t.frames, t.fps])).toEqual([
      [0, 7, 40, 8],
      [1, 8, 40, 8],
    ]);
    const video = await decodeClip(await store.localPath(result.takes[0]!.video));
    expect(video).toMatchObject({ width: 64, height: 64, fps: 8 });
    expect(video.frames).toHaveLength(40);
    expect(result.takes[0]!.preview.contentType).toMatch(/^image\/(webp|gif)$/);

    // Progress names segment k of n, in order; previews of later segments carry theirs.
    const steps = job.sent.filter((p): p is Extract<ProgressPayload, { kind: 'step' }> => p.kind === 'step');
    expect([...new Set(steps.map((p) => `${p.segment}/${p.segments}`))]).toEqual(['1/3', '2/3', '3/3']);
    const previewed = job.sent.filter((p) => p.kind === 'preview').map((p) => (p as { segment?: number }).segment);
    expect(previewed).toContain(1);
    expect(previewed).toContain(3);
    // The raw segments are gone once the takes are stored.
    expect(rawFiles(data.jobId)).toEqual([]);
  });

  it('extends a take forward and backward: the result is the whole video, source included', async () => {
    const source = await processor(model).process(fakeJob(renderJob({ request: { prompt: 'a yellow square still on a purple background', seed: 3 } })), 't', undefined);
    const sourceClip = await decodeClip(await store.localPath(source.takes[0]!.video), { size: { width: 32, height: 32 } });
    for (const direction of ['forward', 'backward'] as const) {
      const data = renderJob({ request: { prompt: 'a yellow square moving up on a purple background', frames: 20, extend: { artifact: source.takes[0]!.video, overlap: 4, direction } } });
      const result = await processor(model).process(fakeJob(data), 't', undefined);
      expect(result.takes[0]).toMatchObject({ frames: 36, fps: 8 });
      const clip = await decodeClip(await store.localPath(result.takes[0]!.video), { size: { width: 32, height: 32 } });
      expect(clip.frames).toHaveLength(36);
      // The source's 16 frames sit unchanged (but for compression) at the start, or at the end.
      const at = direction === 'forward' ? 0 : 20;
      sourceClip.frames.forEach((frame, i) => expect(mad(clip.frames[at + i]!, frame), `${direction} frame ${i}`).toBeLessThan(6));
      const firstCall = model.calls.at(-2)!;
      expect(direction === 'forward' ? firstCall.known?.head?.[0]?.frames : firstCall.known?.tail?.[0]?.frames).toHaveLength(4);
      // Lookback: the rest of the 16-frame source beyond the 4 known frames, on the known side only.
      const [near, far] = direction === 'forward' ? [firstCall.known?.earlier, firstCall.known?.later] : [firstCall.known?.later, firstCall.known?.earlier];
      expect(near?.map((c) => c.frames.length)).toEqual([12]);
      expect(far).toBeUndefined();
      expect(rawFiles(data.jobId)).toEqual([]);
    }
  });

  it('sends no lookback for a model whose chains start from noise (strength 1)', async () => {
    const fromNoise: VideoModel = { ...model, name: model.name, defaults: { ...model.defaults, continuationStrength: 1 }, generate: (request, options) => model.generate(request, options) };
    const before = model.calls.length;
    await processor(fromNoise).process(fakeJob(renderJob({ request: { prompt: 'a red circle moving right on a blue background', frames: 28 } })), 't', undefined);
    const calls = model.calls.slice(before);
    expect(calls.map((c) => [c.known?.head?.[0]?.frames.length, c.known?.strength, c.known?.earlier])).toEqual([
      [undefined, undefined, undefined],
      [4, 1, undefined],
    ]);
  });

  it('resumes a retried chain from its last stored segment, not from the start', async () => {
    const data = renderJob({ request: { prompt: 'a green circle moving left on a black background', frames: 52 } });
    const n = planSegments({ frames: 52, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 0 }).length;
    // The engine thread dies in the third segment: a transient failure, retried by BullMQ.
    let calls = 0;
    const outputs: GenerateResult[] = [];
    const dying: VideoModel = {
      ...model,
      name: model.name,
      defaults: model.defaults,
      generate: async (request, options) => {
        if (++calls === 3) throw new DailiesError('unavailable', 'The engine thread stopped.', { retryable: true });
        const result = await model.generate(request, options);
        outputs.push(result);
        return result;
      },
    };
    const first = await processor(dying).process(fakeJob(data), 't', undefined).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    expect(first).not.toBeInstanceOf(UnrecoverableError);
    expect(rawFiles(data.jobId).sort()).toEqual(['seg-0-take-0.rgb', 'seg-1-take-0.rgb']);
    // Segment 1's frames before the join were faded into segment 2's rendering of them once it
    // was stored (fadeAtJoin); the rest are as segment 1 rendered them.
    const plan = planSegments({ frames: 52, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 0 });
    const rendered = keptFrames(plan[0]!, window(outputs, 0, 0));
    // Segment 2's window opens with its rendering of segment 1's last frames.
    const fresh = window(outputs, 1, 0).frames.slice(plan[1]!.newAt - plan[1]!.head, plan[1]!.newAt);
    const stored = await readFile(store.pathOf(`renders/${data.jobId}/chain/seg-0-take-0.rgb`));
    const frameAt = (i: number) => stored.subarray(i * 32 * 32 * 3, (i + 1) * 32 * 32 * 3);
    const head = plan[1]!.head;
    rendered.forEach((frame, i) => {
      const d = rendered.length - i;
      const want = d <= head ? fadeAtJoin(frame, fresh[head - d]!, d, head) : frame;
      expect(Buffer.from(frameAt(i)).equals(Buffer.from(want)), `frame ${i}`).toBe(true);
    });
    expect(Buffer.from(frameAt(rendered.length - 1)).equals(Buffer.from(rendered.at(-1)!))).toBe(false);

    const before = model.calls.length;
    const result = await processor(model).process(fakeJob(data, 1), 't', undefined);
    expect(model.calls.length - before).toBe(n - 2);
    expect(result.takes[0]).toMatchObject({ frames: 52, fps: 8 });
    expect((await decodeClip(await store.localPath(result.takes[0]!.video))).frames).toHaveLength(52);
  });

  it('hands its worker back between segments when someone waits, and its next turn goes on quietly', async () => {
    const data = renderJob({ request: { prompt: 'a blue square moving up on a yellow background', frames: 28 } });
    const requeued: string[] = [];
    let waiting = 1;
    const p = new RenderProcessor({
      workerId: 'turns',
      acquireModel: async () => ({ model, release: () => {} }),
      media: ffmpegRenderMedia(),
      store,
      isCancelRequested: async () => false,
      turns: { waitingCount: async () => waiting, requeue: async (jobId) => void requeued.push(jobId) },
      log: () => {},
    });
    const delayed: number[] = [];
    const first = { ...fakeJob(data), moveToDelayed: async (at: number) => void delayed.push(at) };
    const before = model.calls.length;
    const error = await p.process(first, 't', undefined).catch((e: unknown) => e);
    // After segment 1 of 2: back in line (requeued, moved to delayed due now), not failed.
    expect(error).toBeInstanceOf(DelayedError);
    expect(model.calls.length - before).toBe(1);
    expect(requeued).toEqual([data.jobId]);
    expect(delayed).toHaveLength(1);
    const yielded = first.sent.at(-1)!;
    expect(yielded).toMatchObject({ kind: 'yielded', segment: 1, segments: 2 });

    // The next turn (nobody waiting now) starts at segment 2 without announcing a new start.
    waiting = 0;
    const second = { ...fakeJob(data), progress: yielded };
    const result = await p.process(second, 't', undefined);
    expect(model.calls.length - before).toBe(2);
    expect(second.sent.some((s) => s.kind === 'started')).toBe(false);
    expect(second.sent.filter((s) => s.kind === 'step').every((s) => s.kind === 'step' && s.segment === 2)).toBe(true);
    expect(result.takes[0]).toMatchObject({ frames: 28, fps: 8 });
    expect(result.timingsMs.active).toBeGreaterThanOrEqual((yielded as { activeMs: number }).activeMs);
  });

  it('stops a chain within its segment when cancelled, fails it for good and deletes its raw frames', async () => {
    const data = renderJob({ request: { frames: 64 } });
    let cancelled = false;
    const job = fakeJob(data);
    const p = processor(model, () => cancelled);
    const run = p.process(job, 't', undefined).catch((e: unknown) => e);
    // Cancel in the second segment (the worker's pub/sub message arrives as an abort).
    const poll = setInterval(() => {
      if (job.sent.some((s) => s.kind === 'step' && s.segment === 2)) cancelled = true;
    }, 5);
    const error = await run;
    clearInterval(poll);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/^\[cancelled\]/);
    expect(job.sent.some((s) => s.kind === 'step' && (s.segment ?? 0) >= 4)).toBe(false);
    expect(rawFiles(data.jobId)).toEqual([]);
  });
});
