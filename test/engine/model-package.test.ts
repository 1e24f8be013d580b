import { appendFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinModelDir, loadModel } from '../../models/engine/load-model.ts';
import { detectModelFormat, openModelPackage, readModelJson, verifyFiles, VerificationCache } from '../../models/engine/package.ts';
import { copyFixture, CPU, editJson, emptyDir, rejection, removeTemps, TINY_PIXEL } from './engine-fixtures.ts';

afterAll(removeTemps);

describe('model.json packages', () => {
  it('opens a good package and verifies every file once per (path, size, mtime)', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    const cache = new VerificationCache();
    const manifest = await openModelPackage(dir, cache);
    expect(manifest.name).toBe('tiny-pixel');
    expect(manifest.components.denoiser.layout).toBe('BFCHW');
    expect(cache.hashed).toBe(3);
    await openModelPackage(dir, cache);
    expect(cache.hashed).toBe(3);
  });

  it('loads into a model whose defaults come from model.json', async () => {
    const model = await loadModel(TINY_PIXEL, CPU);
    expect(model.name).toBe('tiny-pixel');
    expect(model.defaults).toEqual({ frames: 4, width: 16, height: 16, fps: 8, steps: 4, guidance: 4, outputSize: 64 });
    await model.dispose();
  });

  it("carries the package's own continuation strength, and refuses one outside (0, 1]", async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => void (m.defaults.continuationStrength = 1));
    const model = await loadModel(dir, CPU);
    expect(model.defaults.continuationStrength).toBe(1);
    await model.dispose();
    await editJson(join(dir, 'model.json'), (m) => void (m.defaults.continuationStrength = 1.5));
    const e = await rejection(readModelJson(dir));
    expect(e.message).toMatch(/^model\.json in .*: defaults\.continuationStrength .*; fix it or re-export the model\.$/);
  });

  it('rejects a file whose sha256 does not match, naming the file', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.components.denoiser.sha256 = 'a'.repeat(64);
    });
    const e = await rejection(openModelPackage(dir));
    expect(e.code).toBe('model_invalid');
    expect(e.message).toBe(`File denoiser.onnx in ${dir} does not match its sha256 in model.json; re-download or re-export the model.`);
  });

  it('re-hashes a file changed after it was verified', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    const cache = new VerificationCache();
    const manifest = await openModelPackage(dir, cache);
    await appendFile(join(dir, 'text_encoder.onnx'), Buffer.from([0]));
    const e = await rejection(verifyFiles(dir, manifest, cache));
    expect(e.message).toContain('File text_encoder.onnx');
    expect(cache.hashed).toBe(4);
  });

  it('rejects a missing file', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await rm(join(dir, 'tokenizer.json'));
    const e = await rejection(openModelPackage(dir));
    expect(e.code).toBe('model_invalid');
    expect(e.message).toBe(`File tokenizer.json listed in model.json is missing from ${dir}; re-download or re-export the model.`);
  });

  it('requires a sha256 for every file of a model.json package', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      delete m.tokenizer.file.sha256;
    });
    const e = await rejection(openModelPackage(dir));
    expect(e.message).toContain('tokenizer.json (tokenizer.file) has no sha256');
  });

  it('names the tensor when model.json does not match the graph', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.components.denoiser.inputs.sample.name = 'latents';
    });
    const e = await rejection(loadModel(dir, CPU));
    expect(e.code).toBe('model_invalid');
    expect(e.message).toBe(
      'The denoiser graph denoiser.onnx has no input "latents" (declared as components.denoiser.inputs.sample; its inputs are "video", "timestep", "text"); fix the tensor name in model.json.',
    );
  });

  it('rejects a declared dtype the graph does not have', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.components.denoiser.inputs.timestep.dtype = 'int64';
    });
    const e = await rejection(loadModel(dir, CPU));
    expect(e.message).toBe(
      'The denoiser graph input "timestep" is float32 but components.denoiser.inputs.timestep is declared int64; fix its dtype in model.json.',
    );
  });

  it('rejects a wrong output name', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.components.textEncoder.outputs.hiddenStates.name = 'last_hidden_state';
    });
    const e = await rejection(loadModel(dir, CPU));
    expect(e.message).toContain('The text encoder graph text_encoder.onnx has no output "last_hidden_state"');
    expect(e.message).toContain('"text_states"');
  });

  it('rejects a tokenizer length the text encoder graph does not take', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.tokenizer.maxLength = 32;
    });
    const e = await rejection(loadModel(dir, CPU));
    expect(e.message).toBe('The text encoder input "tokens" takes 16 tokens but tokenizer.maxLength is 32; set tokenizer.maxLength to 16 in model.json.');
  });

  it('rejects a channel count the denoiser graph does not have', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.components.denoiser.layout = 'BCFHW';
    });
    // Axis 1 of this graph is symbolic ("frames"), so the mismatch shows when shapes are fed.
    const model = await loadModel(dir, CPU);
    const e = await rejection(model.generate({ prompt: 'a red circle', seed: 1, steps: 1 }));
    await model.dispose();
    expect(e.message).toBe('The denoiser graph input "video" has shape [batch,frames,3,height,width] but the engine fed [2,3,4,16,16]; the manifest\'s sizes do not match the graph.');
  });

  it('rejects defaults outside the limits', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.defaults.steps = 50;
    });
    const e = await rejection(readModelJson(dir));
    expect(e.code).toBe('model_invalid');
    expect(e.message).toBe(`model.json in ${dir}: defaults.steps 50 is outside limits.steps 1..20; fix it or re-export the model.`);
  });

  it('rejects limits whose min exceeds max, as one sentence naming the field', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.limits.frames = { min: 9, max: 2 };
    });
    const e = await rejection(readModelJson(dir));
    expect(e.message).toBe(`model.json in ${dir}: limits.frames min must not exceed max; fix it or re-export the model.`);
  });

  it('reports schema issues as one sentence with the field path', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.components.denoiser.layout = 'BHWCF';
    });
    const e = await rejection(readModelJson(dir));
    expect(e.message).toBe(`model.json in ${dir}: components.denoiser.layout must be one of "BCFHW"|"BFCHW"; fix it or re-export the model.`);
  });

  it('rejects invalid JSON', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await writeFile(join(dir, 'model.json'), '{ "format": ');
    const e = await rejection(readModelJson(dir));
    expect(e.code).toBe('model_invalid');
    expect(e.message).toMatch(/^model\.json in .* is not valid JSON \(.*\); fix the file or re-export the model\.$/);
  });

  it('says what a model folder needs when there is none', async () => {
    const dir = await emptyDir();
    const e = await rejection(detectModelFormat(dir));
    expect(e.code).toBe('not_found');
    expect(e.message).toBe(`No model at ${dir}: pass --model a folder with model.json or a diffusers model_index.json.`);
    expect((await rejection(loadModel(join(dir, 'nope')))).code).toBe('not_found');
  });

  it('locates the built-in model folder next to the engine', () => {
    const dir = builtinModelDir();
    expect(dir).toMatch(/models[\\/]shapes-v2$/);
    expect(existsSync(join(dir, 'vocabulary.json'))).toBe(true);
  });
});
