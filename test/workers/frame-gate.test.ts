import { readdir } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinModelDir, loadModel } from '../../models/engine/load-model.ts';
import { loadFrameCheck } from '../../models/frame-check/onnx-frame-check.ts';
import type { FrameCheck } from '../../src/core/ports/frame-check.ts';
import type { VideoModel } from '../../src/core/ports/video-model.ts';
import type { ProgressPayload } from '../../src/queue/job-wire.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { RenderProcessor, type RenderJobHandle } from '../../workers/render-processor.ts';
import { ffmpegRenderMedia } from '../../workers/render-media.ts';
import { renderJob } from './fixtures/redis-test-env.ts';

/**
 * The frame check in a real render: the built-in model, real ffmpeg, and the test classifier in
 * test/fixtures/frame-check-red (it flags frames that are mostly red). A flagged take must come
 * back withheld with nothing of it in the store; the others are stored and previewed as usual.
 */

const RED_CHECK = path.resolve('test/fixtures/frame-check-red');

function job(data: unknown): RenderJobHandle & { progress: ProgressPayload[] } {
  const progress: ProgressPayload[] = [];
  return {
    id: (data as { jobId: string }).jobId,
    data,
    attemptsMade: 0,
    opts: { attempts: 3 },
    timestamp: Date.now(),
    processedOn: Date.now(),
    progress,
    updateProgress: async (p) => void progress.push(p),
    moveToWait: async () => 0,
    moveToDelayed: async () => {},
  };
}

describe('the frame check between the model and the store', () => {
  let dir: string;
  let store: FsArtifactStore;
  let model: VideoModel;
  let check: FrameCheck;

  const processor = () =>
    new RenderProcessor({
      workerId: 'gate-test',
      acquireModel: async () => ({ model, release: () => {} }),
      media: ffmpegRenderMedia(),
      store,
      frameCheck: check,
      isCancelRequested: async () => false,
      progressIntervalMs: 0,
      cancelPollMs: 0,
      log: () => {},
    });
  const stored = async (jobId: string) => readdir(path.join(dir, 'renders', jobId)).catch(() => [] as string[]);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-gate-'));
    store = new FsArtifactStore({ root: dir });
    model = await loadModel(builtinModelDir(), { threads: 1 });
    check = await loadFrameCheck(RED_CHECK, { threads: 1 });
  }, 60_000);

  afterAll(async () => {
    await check.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('withholds the takes of a red render: no file stored, no preview published, the scores returned', async () => {
    const data = renderJob({ request: { prompt: 'a blue circle on a red background', takes: 2, steps: 8 } });
    const j = job(data);
    const result = await processor().process(j, 'token', undefined);
    expect(result.takes).toEqual([]);
    expect(result.withheld?.map((w) => w.index)).toEqual([0, 1]);
    for (const w of result.withheld!) {
      expect(w.finding.label).toBe('red');
      expect(w.finding.score).toBeGreaterThanOrEqual(0.5);
      expect(w.frames).toBe(5); // frames 0, 4, 8, 12 and 15 of 16
      expect(Object.keys(w.scores).sort()).toEqual(['other', 'red']);
    }
    expect(await stored(data.jobId)).toEqual([]);
    expect(j.progress.filter((p) => p.kind === 'preview')).toEqual([]);
  }, 60_000);

  it('stores and previews a render of another colour as usual', async () => {
    const data = renderJob({ request: { prompt: 'a red circle on a blue background', takes: 2, steps: 8 } });
    const j = job(data);
    const result = await processor().process(j, 'token', undefined);
    expect(result.withheld).toBeUndefined();
    expect(result.takes.map((t) => t.index)).toEqual([0, 1]);
    expect((await stored(data.jobId)).filter((f) => f.startsWith('take-'))).toHaveLength(4);
    expect(j.progress.some((p) => p.kind === 'preview' && p.previews.length === 2)).toBe(true);
  }, 60_000);

  it('withholds a long take (a chain of segments) from its streamed frames', async () => {
    const data = renderJob({ request: { prompt: 'a blue square on a red background', takes: 1, steps: 6, frames: 28 } });
    const result = await processor().process(job(data), 'token', undefined);
    expect(result.takes).toEqual([]);
    expect(result.withheld).toHaveLength(1);
    expect(result.withheld![0]!.frames).toBe(8); // 0, 4, …, 24 and 27 of 28
    expect((await stored(data.jobId)).filter((f) => f.startsWith('take-'))).toEqual([]);
  }, 120_000);
});
