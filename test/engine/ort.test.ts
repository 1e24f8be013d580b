import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { floatTensor, fromFloat16, intTensor, OnnxSession, toFloat16, toFloat32 } from '../../models/engine/ort.ts';
import { CPU, rejection, TINY_LATENT_CLIP, TINY_PIXEL } from './engine-fixtures.ts';

describe('float16 conversion', () => {
  it('rounds to the nearest half and handles the edges', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [65520, 0x7c00], // rounds up to infinity
      [Infinity, 0x7c00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -26, 0x0000], // below half of it
      [1 + 2 ** -11, 0x3c00], // tie to even (down)
      [1 + 3 * 2 ** -11, 0x3c02], // tie to even (up)
    ];
    const bits = toFloat16(Float32Array.from(cases.map(([v]) => v)));
    expect(Array.from(bits)).toEqual(cases.map(([, h]) => h));
    expect(Array.from(fromFloat16(Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00])))).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
    expect(Number.isNaN(fromFloat16(toFloat16(Float32Array.of(NaN)))[0])).toBe(true);
  });

  it('round-trips through a float16 tensor', () => {
    const t = floatTensor(Float32Array.of(0.5, -0.25, 3), [3], 'float16');
    expect(t.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(toFloat32(t))).toEqual([0.5, -0.25, 3]);
  });
});

describe('OnnxSession', () => {
  const sessions: OnnxSession[] = [];
  afterAll(async () => Promise.all(sessions.map((s) => s.dispose())));
  const open = async (dir: string, file: string, label: string) => {
    const s = await OnnxSession.open(join(dir, file), label, CPU, dir);
    sessions.push(s);
    return s;
  };

  it('reads names, dtypes and shapes from the graph, including external-data graphs', async () => {
    const unet = await open(TINY_LATENT_CLIP, 'unet/model.onnx', 'denoiser');
    expect(unet.inputs.map((v) => [v.name, v.dtype])).toEqual([
      ['sample', 'float32'],
      ['timestep', 'int64'],
      ['encoder_hidden_states', 'float32'],
    ]);
    expect(unet.input('timestep')?.shape).toEqual([1]);
    expect(unet.file).toBe('unet/model.onnx');
  });

  it('runs with named inputs', async () => {
    const te = await open(TINY_PIXEL, 'text_encoder.onnx', 'text encoder');
    const out = await te.run({ tokens: intTensor(new Array(16).fill(2), [1, 16], 'int64') }, ['text_states']);
    expect(out['text_states']!.dims).toEqual([1, 16, 16]);
  });

  it('rejects feeds that do not fit the declared shape, naming tensor and shapes', async () => {
    const te = await open(TINY_PIXEL, 'text_encoder.onnx', 'text encoder');
    const e = await rejection(te.run({ tokens: intTensor(new Array(8).fill(2), [1, 8], 'int64') }, ['text_states']));
    expect(e.code).toBe('model_invalid');
    expect(e.message).toBe('The text encoder graph input "tokens" has shape [batch,16] but the engine fed [1,8]; the manifest\'s sizes do not match the graph.');
  });

  it('rejects feeds of the wrong dtype or name', async () => {
    const te = await open(TINY_PIXEL, 'text_encoder.onnx', 'text encoder');
    const wrongType = await rejection(te.run({ tokens: intTensor(new Array(16).fill(2), [1, 16], 'int32') }, ['text_states']));
    expect(wrongType.message).toContain('"tokens" is int64 but the engine fed int32');
    const wrongName = await rejection(te.run({ input_ids: intTensor(new Array(16).fill(2), [1, 16], 'int64') }, ['text_states']));
    expect(wrongName.message).toContain('needs input "tokens"');
  });

  it('reports graph inputs the manifest does not map', async () => {
    const unet = await open(TINY_LATENT_CLIP, 'unet/model.onnx', 'denoiser');
    let caught: unknown;
    try {
      unet.expect([{ role: 'sample', name: 'sample', dtype: 'float32' }], [{ role: 'prediction', name: 'out_sample', dtype: 'float32' }], 'model.json');
    } catch (e) {
      caught = e;
    }
    expect((caught as Error).message).toBe(
      'The denoiser graph unet/model.onnx also needs inputs "timestep", "encoder_hidden_states", which model.json does not map; map them or re-export the graph without them.',
    );
  });

  it('turns an unreadable graph into model_invalid', async () => {
    const e = await rejection(OnnxSession.open(join(TINY_PIXEL, 'tokenizer.json'), 'denoiser', CPU, TINY_PIXEL));
    expect(e.code).toBe('model_invalid');
    expect(e.message).toMatch(/^Could not load the denoiser graph tokenizer\.json \(.*\); re-download or re-export the model\.$/);
  });
});
