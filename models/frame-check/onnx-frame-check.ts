import path from 'node:path';
import { DailiesError } from '../../src/errors.ts';
import type { CheckedFrame, FrameCheck, FrameFinding, FrameVerdict } from '../../src/core/ports/frame-check.ts';
import { OnnxSession, type SessionConfig } from '../engine/ort.ts';
import { nearestRgb, resampleRgb } from '../engine/pixels.ts';
import { readClassifierConfig, type ClassifierConfig } from './classifier-config.ts';

/**
 * A frame check from a classifier folder (DAILIES_FRAME_CHECK=DIR): DIR/model.onnx takes one
 * float32 image batch and returns one float32 [N, labels] of probabilities; DIR/classifier.json
 * says how pixels become its input and which labels block at which score. It runs through the
 * engine's onnxruntime module, so CUDA workers run it on their GPU like the video model.
 */

/** Frames per model call: enough to amortise a call, small enough to keep memory flat. */
const BATCH = 8;

export async function loadFrameCheck(dir: string, session: SessionConfig = {}): Promise<FrameCheck> {
  const config = await readClassifierConfig(dir);
  const graph = await OnnxSession.open(path.join(dir, 'model.onnx'), 'frame check', session, dir);
  const { input, output } = checkGraph(graph, config, dir);
  const name = path.basename(path.resolve(dir));

  return {
    name,
    async check(frames: readonly CheckedFrame[], signal?: AbortSignal): Promise<FrameVerdict> {
      const scores: Record<string, number> = Object.fromEntries(config.labels.map((l) => [l, 0]));
      for (let start = 0; start < frames.length; start += BATCH) {
        signal?.throwIfAborted();
        const batch = frames.slice(start, start + BATCH);
        const [h, w] = config.input.size;
        const dims = config.input.layout === 'NHWC' ? [batch.length, h, w, 3] : [batch.length, 3, h, w];
        const data = new Float32Array(batch.length * h * w * 3);
        batch.forEach((frame, i) => writeFrame(frame, config, data, i * h * w * 3));
        const out = (await graph.run({ [input]: { type: 'float32', data, dims } }, [output]))[output]!;
        const labels = config.labels.length;
        if (out.dims.length !== 2 || out.dims[0] !== batch.length || out.dims[1] !== labels) {
          throw new DailiesError('model_invalid', `The frame check in ${dir} returned shape [${out.dims.join(',')}] for ${batch.length} frames, not [${batch.length},${labels}]; make classifier.json's labels match the model's output.`);
        }
        const probs = out.data as Float32Array;
        for (let f = 0; f < batch.length; f++) {
          config.labels.forEach((label, j) => {
            const p = probs[f * labels + j]!;
            if (p > scores[label]!) scores[label] = p;
          });
        }
      }
      return { flagged: worstFinding(scores, config.block), scores, frames: frames.length };
    },
    close: () => graph.dispose(),
  };
}

/** The blocking label furthest over its threshold, or null. */
export function worstFinding(scores: Record<string, number>, block: Record<string, number>): FrameFinding | null {
  let worst: FrameFinding | null = null;
  for (const [label, threshold] of Object.entries(block)) {
    const score = scores[label] ?? 0;
    if (score >= threshold && (!worst || score - threshold > worst.score - worst.threshold)) worst = { label, score, threshold };
  }
  return worst;
}

/** The one input and one output, checked at load so a mismatched folder fails before any job. */
function checkGraph(graph: OnnxSession, config: ClassifierConfig, dir: string): { input: string; output: string } {
  const fix = `fix classifier.json in ${dir} or re-export the model`;
  if (graph.inputs.length !== 1 || graph.outputs.length < 1) {
    throw new DailiesError('model_invalid', `The frame check model in ${dir} has ${graph.inputs.length} inputs and ${graph.outputs.length} outputs; it must take one image batch and return one [N, labels] tensor.`);
  }
  const input = graph.inputs[0]!;
  const output = graph.outputs[0]!;
  if (input.dtype !== 'float32' || output.dtype !== 'float32') {
    throw new DailiesError('model_invalid', `The frame check model in ${dir} takes ${input.dtype} and returns ${output.dtype}; both must be float32 (${fix}).`);
  }
  const [h, w] = config.input.size;
  const want = config.input.layout === 'NHWC' ? [null, h, w, 3] : [null, 3, h, w];
  const fits = input.shape.length === 0 || (input.shape.length === 4 && want.every((d, i) => d === null || typeof input.shape[i] !== 'number' || input.shape[i] === d));
  if (!fits) {
    throw new DailiesError('model_invalid', `The frame check model in ${dir} takes [${input.shape.join(',')}] but classifier.json describes ${config.input.layout} ${h}x${w} RGB; ${fix}.`);
  }
  const last = output.shape.at(-1);
  if (typeof last === 'number' && last > 0 && last !== config.labels.length) {
    throw new DailiesError('model_invalid', `The frame check model in ${dir} returns ${last} scores per frame but classifier.json lists ${config.labels.length} labels; ${fix}.`);
  }
  return { input: input.name, output: output.name };
}

/** One RGB24 frame, resampled to the model's size and normalised, into the model's input at `offset`. */
function writeFrame(frame: CheckedFrame, config: ClassifierConfig, out: Float32Array, offset: number): void {
  const [h, w] = config.input.size;
  const { scale, layout } = config.input;
  const mean = config.input.mean ?? [0, 0, 0];
  const std = config.input.std ?? [1, 1, 1];
  const { width: sw, height: sh, rgb } = frame;
  if (rgb.length !== sw * sh * 3) throw new DailiesError('internal', `A ${sw}x${sh} frame has ${rgb.length} bytes, not ${sw * sh * 3}; the frame check reads RGB24.`);
  // A frame at half the classifier's size or less (the built-in model's 32 px against 224) is
  // enlarged by repeating its pixels. A smooth enlargement invents soft gradients, and this
  // classifier reads a soft red or orange blob on black as skin: on the built-in model's clips
  // bilinear gave porn scores up to 0.91 (both takes of "a red square" withheld), repeated pixels
  // 0.01-0.1 on the same frames (models/frame-check-nsfw/MODEL_CARD.md).
  const hwc = sw * 2 <= w && sh * 2 <= h ? nearestRgb(rgb, sw, sh, w, h) : resampleRgb(rgb, sw, sh, w, h);
  for (let p = 0; p < h * w; p++) {
    for (let c = 0; c < 3; c++) {
      const v = (hwc[p * 3 + c]! * scale - mean[c]!) / std[c]!;
      out[offset + (layout === 'NHWC' ? p * 3 + c : c * h * w + p)] = v;
    }
  }
}
