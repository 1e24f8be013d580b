import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffusersManifest, readDiffusersFolder } from '../../models/engine/diffusers-layout.ts';
import { loadModel } from '../../models/engine/load-model.ts';
import type { GraphInfo } from '../../models/engine/ort.ts';
import { copyFixture, CPU, editJson, rejection, removeTemps, TINY_LATENT_CLIP, TINY_LATENT_JSON } from './engine-fixtures.ts';

afterAll(removeTemps);

const vocab: Record<string, number> = JSON.parse(readFileSync(join(TINY_LATENT_CLIP, 'tokenizer/vocab.json'), 'utf8'));

/** Metadata as onnxruntime reports it for the tiny-latent graphs. */
const TINY_GRAPHS: { textEncoder: GraphInfo; denoiser: GraphInfo; vaeDecoder: GraphInfo } = {
  textEncoder: {
    inputs: [{ name: 'input_ids', dtype: 'int64', shape: ['batch', 77] }],
    outputs: [
      { name: 'last_hidden_state', dtype: 'float32', shape: ['batch', 77, 32] },
      { name: 'pooler_output', dtype: 'float32', shape: ['batch', 32] },
    ],
  },
  denoiser: {
    inputs: [
      { name: 'sample', dtype: 'float32', shape: ['batch', 4, 'frames', 'height', 'width'] },
      { name: 'timestep', dtype: 'int64', shape: [1] },
      { name: 'encoder_hidden_states', dtype: 'float32', shape: ['batch', 77, 32] },
    ],
    outputs: [{ name: 'out_sample', dtype: 'float32', shape: ['batch', 4, 'frames', 'height', 'width'] }],
  },
  vaeDecoder: {
    inputs: [{ name: 'latent_sample', dtype: 'float32', shape: ['batch', 4, 'height', 'width'] }],
    outputs: [{ name: 'sample', dtype: 'float32', shape: ['batch', 3, 'h', 'w'] }],
  },
};

describe('diffusers/optimum ONNX folders opened as they are', () => {
  it('describes the CLIP-slow folder with the manifest structure', async () => {
    const folder = await readDiffusersFolder(TINY_LATENT_CLIP);
    const m = diffusersManifest(folder, TINY_GRAPHS);
    expect(m.name).toBe('tiny-latent-clip-slow');
    expect(m.space).toEqual({ kind: 'latent', channels: 4, scalingFactor: 0.18215, downsample: 8, previewRgbFactors: expect.any(Array) });
    expect(m.scheduler).toEqual({
      numTrainTimesteps: 1000,
      betaSchedule: 'scaled_linear',
      betaStart: 0.00085,
      betaEnd: 0.012,
      predictionType: 'epsilon',
      timestepSpacing: 'leading',
      stepsOffset: 1,
      setAlphaToOne: false,
      default: 'ddim',
    });
    expect(m.tokenizer).toEqual({ kind: 'clip-bpe', vocab: { file: 'tokenizer/vocab.json' }, merges: { file: 'tokenizer/merges.txt' }, maxLength: 77, padToken: '<|endoftext|>' });
    expect(m.components.denoiser).toMatchObject({
      file: 'unet/model.onnx',
      externalData: [{ file: 'unet/model.onnx_data' }],
      inputs: {
        sample: { name: 'sample', dtype: 'float32' },
        timestep: { name: 'timestep', dtype: 'int64', shape: 'scalar' },
        encoderHiddenStates: { name: 'encoder_hidden_states', dtype: 'float32' },
      },
      outputs: { prediction: { name: 'out_sample', dtype: 'float32' } },
      layout: 'BCFHW',
    });
    expect(m.components.textEncoder.outputs.hiddenStates.name).toBe('last_hidden_state');
    expect(m.components.vaeDecoder).toMatchObject({ file: 'vae_decoder/model.onnx', mode: 'per-frame', frameBatch: 3, inputs: { latent: { name: 'latent_sample' } } });
    expect(m.components.vaeEncoder).toBeUndefined();
    expect(m.defaults).toMatchObject({ frames: 4, width: 32, height: 32, steps: 4, guidance: 7.5, fps: 8 });
  });

  it('reads a tokenizer.json folder, its pad id and its VAE encoder', async () => {
    const model = await loadModel(TINY_LATENT_JSON, CPU);
    await model.dispose();
    const folder = await readDiffusersFolder(TINY_LATENT_JSON);
    expect(folder.tokenizer).toEqual({ kind: 'tokenizer-json', file: 'tokenizer/tokenizer.json', config: 'tokenizer/tokenizer_config.json', padId: vocab['<|endoftext|>'] });
    expect(folder.files.vaeEncoder).toBe('vae_encoder/model.onnx');
  });

  it('falls back to ModelScope defaults without dailies.json and takes sizes from the graph', async () => {
    const dir = await copyFixture(TINY_LATENT_CLIP);
    await rm(join(dir, 'dailies.json'));
    const folder = await readDiffusersFolder(dir);
    const fixed: GraphInfo = {
      ...TINY_GRAPHS.denoiser,
      inputs: [
        { name: 'sample', dtype: 'float16', shape: [2, 4, 16, 32, 32] },
        { name: 'timestep', dtype: 'float32', shape: [2] },
        { name: 'encoder_hidden_states', dtype: 'float16', shape: [2, 77, 1024] },
      ],
      outputs: [{ name: 'out_sample', dtype: 'float16', shape: [2, 4, 16, 32, 32] }],
    };
    const m = diffusersManifest(folder, { ...TINY_GRAPHS, denoiser: fixed });
    expect(m.defaults).toEqual({ frames: 16, width: 256, height: 256, fps: 8, steps: 25, guidance: 9, outputSize: 256, negativePrompt: '' });
    expect(m.components.denoiser.inputs.timestep).toEqual({ name: 'timestep', dtype: 'float32', shape: 'batch' });
    expect(m.components.denoiser.inputs.sample.dtype).toBe('float16');
    expect(m.name).toBe(dir.split('/').pop());
  });

  it('maps other tensor names through dailies.json (Wan-style latent_input -> noise_prediction)', async () => {
    const dir = await copyFixture(TINY_LATENT_CLIP);
    await editJson(join(dir, 'dailies.json'), (o) => {
      o.names = { denoiser: { sample: 'latent_input', prediction: 'noise_prediction' } };
      o.layout = 'BCFHW';
    });
    const wan: GraphInfo = {
      inputs: [
        { name: 'latent_input', dtype: 'float32', shape: ['b', 16, 'f', 'h', 'w'] },
        { name: 'timestep', dtype: 'float32', shape: ['b'] },
        { name: 'encoder_hidden_states', dtype: 'float32', shape: ['b', 512, 4096] },
      ],
      outputs: [{ name: 'noise_prediction', dtype: 'float32', shape: ['b', 16, 'f', 'h', 'w'] }],
    };
    const m = diffusersManifest(await readDiffusersFolder(dir), { ...TINY_GRAPHS, denoiser: wan });
    expect(m.components.denoiser.inputs.sample.name).toBe('latent_input');
    expect(m.components.denoiser.outputs.prediction.name).toBe('noise_prediction');
  });

  it('names the tensor when a mapped name is not in the graph', async () => {
    const dir = await copyFixture(TINY_LATENT_CLIP);
    await editJson(join(dir, 'dailies.json'), (o) => {
      o.names = { denoiser: { sample: 'latent_input' } };
    });
    const e = await rejection(loadModel(dir, CPU));
    expect(e.code).toBe('model_invalid');
    expect(e.message).toBe(
      'dailies.json maps names.denoiser.sample to "latent_input" but the denoiser graph unet/model.onnx has no such input (its inputs are "sample", "timestep", "encoder_hidden_states"); fix the name in dailies.json.',
    );
  });

  it('asks for a name map when a graph uses unknown names', async () => {
    const folder = await readDiffusersFolder(TINY_LATENT_CLIP);
    const renamed: GraphInfo = { ...TINY_GRAPHS.denoiser, inputs: TINY_GRAPHS.denoiser.inputs.map((v) => (v.name === 'sample' ? { ...v, name: 'x' } : v)) };
    expect(() => diffusersManifest(folder, { ...TINY_GRAPHS, denoiser: renamed })).toThrow(
      'The denoiser graph unet/model.onnx has no input "sample" (its inputs are "x", "timestep", "encoder_hidden_states"); map the right one as names.denoiser.sample in dailies.json.',
    );
  });

  it('rejects unknown keys in dailies.json', async () => {
    const dir = await copyFixture(TINY_LATENT_CLIP);
    await editJson(join(dir, 'dailies.json'), (o) => {
      o.defaults.stepz = 3;
    });
    const e = await rejection(readDiffusersFolder(dir));
    expect(e.message).toMatch(/^dailies\.json in .*: defaults .*stepz.*; fix dailies\.json\.$/);
  });

  it('rejects a scheduler config it cannot run', async () => {
    const dir = await copyFixture(TINY_LATENT_CLIP);
    await editJson(join(dir, 'scheduler/scheduler_config.json'), (c) => {
      c.prediction_type = 'sample';
    });
    const e = await rejection(readDiffusersFolder(dir));
    expect(e.message).toBe(
      `scheduler/scheduler_config.json in ${dir}: predictionType must be one of "epsilon"|"v_prediction"; the engine supports linear, scaled_linear and squaredcos_cap_v2 betas with epsilon or v_prediction.`,
    );
  });

  it('says which graph or tokenizer file is missing', async () => {
    const dir = await copyFixture(TINY_LATENT_CLIP);
    await rm(join(dir, 'tokenizer/merges.txt'));
    expect((await rejection(readDiffusersFolder(dir))).message).toBe(
      `No tokenizer in ${dir}/tokenizer: expected tokenizer.json, or CLIP's vocab.json and merges.txt; re-download the model's tokenizer folder.`,
    );
    await rm(join(dir, 'unet'), { recursive: true });
    expect((await rejection(readDiffusersFolder(dir))).message).toBe(`The denoiser graph unet/model.onnx is missing from ${dir}; export the denoiser to ONNX or re-download the model.`);
    await writeFile(join(dir, 'model_index.json'), '[');
    expect((await rejection(readDiffusersFolder(dir))).message).toBe(`model_index.json in ${dir} is not a valid JSON object; fix it or re-download the model.`);
  });
});
