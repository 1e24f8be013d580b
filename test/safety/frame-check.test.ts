import { readFile } from 'node:fs/promises';
import { mkdtemp, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinModelDir, loadModel } from '../../models/engine/load-model.ts';
import { builtinFrameCheckDir, frameCheckDir, frameCheckName } from '../../models/frame-check/frame-check-setting.ts';
import { loadFrameCheck, worstFinding } from '../../models/frame-check/onnx-frame-check.ts';
import type { FrameCheck } from '../../src/core/ports/frame-check.ts';
import { sampledFrameIndices } from '../../src/safety/frame-sample.ts';
import { refusal } from '../conformance/refusal.ts';

/** The frame check's classifier folder: its format, its errors, and the shipped classifier on real renders. */

/** The one sentence a refused promise gives (the shared `refusal` fails the test on anything else). */
const failure = async (promise: Promise<unknown>): Promise<string> => (await refusal(promise)).message;

describe('classifier folders', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-classifier-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  async function folder(name: string, classifier: unknown | string | null, model = 'test/fixtures/frame-check-red/model.onnx'): Promise<string> {
    const d = path.join(dir, name);
    await mkdir(d, { recursive: true });
    if (classifier !== null) await writeFile(path.join(d, 'classifier.json'), typeof classifier === 'string' ? classifier : JSON.stringify(classifier));
    await copyFile(model, path.join(d, 'model.onnx'));
    return d;
  }
  const good = { labels: ['red', 'other'], input: { size: [32, 32], layout: 'NHWC', scale: 1 / 255 }, block: { red: 0.5 } };

  it('names each problem of a bad classifier.json in its own sentence', async () => {
    const d = await folder('bad', { labels: ['red', 'other'], input: { size: [32, 2], layout: 'NHW', scale: -1, mean: [1] }, block: { red: 2 } });
    const message = await failure(loadFrameCheck(d));
    const where = path.join(d, 'classifier.json');
    expect(message).toBe(
      [
        `${where}: input.size.1 must be at least 8.`,
        `${where}: input.layout must be "NHWC" or "NCHW".`,
        `${where}: input.scale must be a positive number, e.g. 0.00392156862745098 for 1/255.`,
        `${where}: input.mean must list 3 numbers (red, green, blue).`,
        `${where}: block.red must be at most 1.`,
      ].join(' '),
    );
  });

  it('refuses a block label the classifier does not have, a missing file and broken JSON with one sentence each', async () => {
    expect(await failure(loadFrameCheck(await folder('unknown-label', { ...good, block: { porn: 0.8 } })))).toMatch(/: block\.porn is not one of the labels \(red, other\)\.$/);
    expect(await failure(loadFrameCheck(await folder('missing', null)))).toMatch(/has no classifier\.json; add one \(see the README's frame check section\) or set DAILIES_FRAME_CHECK=off\.$/);
    expect(await failure(loadFrameCheck(await folder('broken', '{"labels": [')))).toMatch(/classifier\.json is not valid JSON \(.+\); fix its syntax\.$/);
  });

  it('refuses a folder whose model does not match classifier.json before any job', async () => {
    const labels = await failure(loadFrameCheck(await folder('three-labels', { ...good, labels: ['red', 'other', 'blue'] })));
    expect(labels).toMatch(/returns 2 scores per frame but classifier\.json lists 3 labels; fix classifier\.json in .+ or re-export the model\.$/);
    const size = await failure(loadFrameCheck(await folder('size', { ...good, input: { ...good.input, size: [64, 64] } })));
    expect(size).toMatch(/takes \[N,32,32,3\] but classifier\.json describes NHWC 64x64 RGB/);
  });

  it('reads DAILIES_FRAME_CHECK: unset is the shipped classifier, off is none, anything else a folder', () => {
    expect(frameCheckDir(undefined)).toBe(builtinFrameCheckDir());
    expect(frameCheckDir('off')).toBeNull();
    expect(frameCheckDir('OFF')).toBeNull();
    expect(frameCheckDir('some/dir')).toBe(path.resolve('some/dir'));
    expect([frameCheckName(undefined), frameCheckName('off'), frameCheckName('test/fixtures/frame-check-red')]).toEqual(['frame-check-nsfw', 'off', 'frame-check-red']);
  });

  it('samples every 4th frame plus the first and the last, and blocks on the label furthest over its threshold', () => {
    expect(sampledFrameIndices(16)).toEqual([0, 4, 8, 12, 15]);
    expect(sampledFrameIndices(13)).toEqual([0, 4, 8, 12]);
    expect(sampledFrameIndices(1)).toEqual([0]);
    expect(sampledFrameIndices(0)).toEqual([]);
    expect(worstFinding({ porn: 0.85, sexy: 0.99 }, { porn: 0.8, sexy: 0.9 })).toEqual({ label: 'sexy', score: 0.99, threshold: 0.9 });
    expect(worstFinding({ porn: 0.79 }, { porn: 0.8 })).toBeNull();
  });
});

describe('the shipped classifier (models/frame-check-nsfw)', () => {
  let check: FrameCheck;
  beforeAll(async () => {
    check = await loadFrameCheck(builtinFrameCheckDir(), { threads: 1 });
  }, 30_000);
  afterAll(async () => check.close());

  it('passes 26 clips of the built-in model, far under every threshold', async () => {
    const model = await loadModel(builtinModelDir(), { threads: 1 });
    const prompts = [
      'a red circle moving left on a black background',
      'a white square growing on a blue background',
      'a pink triangle moving up on a gray background',
      'an orange circle shrinking on a white background',
      'a yellow square moving right on a purple background',
      'a black triangle still on a pink background',
      'a green circle moving down on an orange background',
      'a cyan square moving left on a red background',
      'a purple triangle growing on a yellow background',
      'a blue circle moving up on a green background',
      // Warm blobs on black: what a smooth enlargement to 224 px made this classifier call skin
      // (porn up to 0.91, takes withheld); its own pixels repeated score under 0.11.
      'a red square moving right on a black background',
      'a pink circle growing on a black background',
      'an orange square moving up on a black background',
    ];
    const worst: number[] = [];
    for (const [i, prompt] of prompts.entries()) {
      const { takes } = await model.generate({ prompt, seed: 100 + i, variations: 2, steps: 8 });
      for (const { clip } of takes) {
        const verdict = await check.check(clip.frames.map((rgb) => ({ width: clip.width, height: clip.height, rgb })));
        expect(verdict.flagged, `${prompt}: ${JSON.stringify(verdict.scores)}`).toBeNull();
        expect(verdict.frames).toBe(clip.frames.length);
        worst.push(Math.max(verdict.scores.porn!, verdict.scores.hentai!, verdict.scores.sexy!));
      }
    }
    expect(worst).toHaveLength(26);
    // Not just under 0.8: a margin, so a new seed or model tweak does not start withholding takes.
    expect(Math.max(...worst)).toBeLessThan(0.3);
  }, 120_000);

  it('flags the synthetic fixture the converter showed TF.js flags, with the same score', async () => {
    const meta = JSON.parse(await readFile('test/fixtures/frame-check/flagged-224.json', 'utf8')) as { width: number; height: number; label: string; score: number; tfjsScore: number };
    const rgb = new Uint8Array(await readFile('test/fixtures/frame-check/flagged-224.rgb'));
    const verdict = await check.check([{ width: meta.width, height: meta.height, rgb }]);
    expect(verdict.flagged?.label).toBe(meta.label);
    expect(verdict.flagged!.score).toBeCloseTo(meta.tfjsScore, 3);
    expect(verdict.flagged!.threshold).toBe(0.8);
  });
});
