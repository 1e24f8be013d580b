import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinModelDir, loadModel } from '../../models/engine/load-model.ts';
import type { RenderCredits } from '../../src/core/credits.ts';
import type { VideoModel } from '../../src/core/ports/video-model.ts';
import { encodeVideo } from '../../src/media/index.ts';
import { readCredentials } from '../../src/provenance/index.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { createFinalSigner, signIfCredited, weightsDigest, type FinalSigner } from '../../workers/final-signer.ts';
import { RenderProcessor, type RenderJobHandle } from '../../workers/render-processor.ts';
import { ffmpegRenderMedia } from '../../workers/render-media.ts';
import { renderJob } from './fixtures/redis-test-env.ts';

/**
 * Finals signed in the worker: the built-in model, real ffmpeg, real C2PA signing, then the file
 * read back as `dailies verify` reads it.
 */

const ana = { id: 'local-ana', name: 'Ana' };
const ben = { id: 'local-ben', name: 'Ben' };
const CREDITS: RenderCredits = {
  title: 'a red circle, on a blue background',
  take: { version: 2, take: 1 },
  lineage: [
    { version: 1, prompt: 'a red circle', author: ana, change: 'first version', parent: null },
    { version: 2, prompt: 'a red circle, on a blue background', author: ben, change: "added 'on a blue background'", parent: { version: 1 } },
  ],
  contributors: [
    { person: ana, roles: ['prompted', 'finalized'] },
    { person: ben, roles: ['revised', 'voted'] },
  ],
};

function handle(data: unknown): RenderJobHandle {
  return { id: (data as { jobId: string }).jobId, data, attemptsMade: 0, opts: { attempts: 3 }, timestamp: Date.now(), updateProgress: async () => {}, moveToWait: async () => 0, moveToDelayed: async () => {} };
}

describe('signing finals in the worker', () => {
  let dir: string;
  let store: FsArtifactStore;
  let model: VideoModel;
  let signer: FinalSigner;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-signer-'));
    store = new FsArtifactStore({ root: path.join(dir, 'store') });
    model = await loadModel(builtinModelDir(), { threads: 1 });
    signer = await createFinalSigner({ dir: path.join(dir, 'signing'), modelDir: builtinModelDir(), modelName: model.name });
  }, 60_000);
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const processor = () =>
    new RenderProcessor({ workerId: 'signer-test', acquireModel: async () => ({ model, release: () => {} }), media: ffmpegRenderMedia(), store, signer, isCancelRequested: async () => false, cancelPollMs: 0, log: () => {} });

  it('signs a final whose request carries credits; the stored file verifies with its lineage, model and software', async () => {
    const data = renderJob({ request: { prompt: 'a red circle, on a blue background', takes: 1, steps: 4, quality: 'final', credits: CREDITS } });
    const result = await processor().process(handle(data), 'token', undefined);
    expect(result.takes[0]!.signed).toBe(true);
    const bytes = new Uint8Array(await readFile(await store.localPath(result.takes[0]!.video)));
    const report = await readCredentials(bytes, { trustAnchorsPem: await readFile(path.join(dir, 'signing', 'ca.pem'), 'utf8') });
    expect(report.state).toBe('trusted');
    expect(report.credits).toMatchObject({ title: CREDITS.title, take: CREDITS.take, lineage: CREDITS.lineage, contributors: CREDITS.contributors });
    expect(report.credits!.model).toEqual({ name: model.name, weightsSha256: await weightsDigest(builtinModelDir()) });
    expect(report.credits!.software.name).toBe('dailies');

    // One changed byte of the picture: invalid.
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 100]! ^= 0xff;
    expect((await readCredentials(tampered)).state).toBe('invalid');
  }, 60_000);

  it('leaves a draft (no credits) unsigned', async () => {
    const data = renderJob({ request: { prompt: 'a red circle', takes: 1, steps: 2 } });
    const result = await processor().process(handle(data), 'token', undefined);
    expect(result.takes[0]!.signed).toBeUndefined();
    const report = await readCredentials(new Uint8Array(await readFile(await store.localPath(result.takes[0]!.video))));
    expect(report.state).toBe('absent');
  }, 60_000);

  it('signs after the size ladder, inside the budget: a video squeezed to fit still verifies', async () => {
    // Noise does not compress: at 256 px the first rung is far over a 60 KB budget.
    const frames = Array.from({ length: 24 }, (_, f) => Uint8Array.from({ length: 256 * 256 * 3 }, (_, i) => (i * 2654435761 + f * 40503) >>> 24));
    const budget = 60_000;
    const headroom = signer.headroom(CREDITS);
    const encoded = await encodeVideo({ width: 256, height: 256, fps: 8, frames }, { path: path.join(dir, 'noise.mp4'), size: 256, maxBytes: budget - headroom });
    expect(encoded.attempts).toBeGreaterThan(1);
    const signed = await signIfCredited(signer, { prompt: 'x', negativePrompt: '', seed: 1, takes: 1, quality: 'final', credits: CREDITS }, encoded, AbortSignal.timeout(30_000));
    const bytes = await readFile(signed.path);
    expect(bytes.length).toBeLessThanOrEqual(budget);
    expect((await readCredentials(new Uint8Array(bytes))).state).toBe('valid');
  }, 120_000);

  it('hashes the weights of a model folder the same way wherever it is, and differently when a weight changes', async () => {
    const a = path.join(dir, 'model-a');
    await mkdir(path.join(a, 'unet'), { recursive: true });
    await writeFile(path.join(a, 'unet', 'model.onnx'), 'graph');
    await writeFile(path.join(a, 'unet', 'model.onnx_data'), 'weights');
    await writeFile(path.join(a, 'README.md'), 'not a weight');
    const first = await weightsDigest(a);
    await writeFile(path.join(a, 'README.md'), 'edited');
    expect(await weightsDigest(a)).toBe(first);
    await writeFile(path.join(a, 'unet', 'model.onnx_data'), 'weights!');
    expect(await weightsDigest(a)).not.toBe(first);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
  });
});
