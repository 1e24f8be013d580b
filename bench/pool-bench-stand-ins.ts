import { writeFile } from 'node:fs/promises';
import type { Clip, GenerateOptions, GenerateRequest, GenerateResult, VideoModel } from '../src/core/ports/video-model.ts';
import { DailiesError } from '../src/errors.ts';
import type { EncodeResult } from '../src/media/index.ts';

/**
 * Stand-ins for the pool benchmark only: they let `bench-pool` measure the queue and the worker
 * without inference (and, for the queue numbers, without ffmpeg). The model below is NOT a
 * model: it returns flat frames after a fixed time per step and is never registered or loaded
 * as one.
 */

export interface StandInModelOptions {
  steps: number;
  stepMs: number;
  size: number;
  frames: number;
}

export function standInModel(o: StandInModelOptions): VideoModel {
  return {
    name: 'pool-bench-stand-in',
    defaults: { frames: o.frames, width: o.size, height: o.size, fps: 8, steps: o.steps, guidance: 1, outputSize: o.size },
    async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
      const started = Date.now();
      const steps = request.steps ?? o.steps;
      for (let step = 1; step <= steps; step++) {
        if (options.signal?.aborted) throw new DailiesError('cancelled', 'The generation was cancelled.');
        if (o.stepMs > 0) await new Promise((r) => setTimeout(r, o.stepMs));
        options.onStep?.({ step, totalSteps: steps });
      }
      const clip = (shade: number): Clip => ({
        width: o.size,
        height: o.size,
        fps: 8,
        frames: Array.from({ length: o.frames }, (_, f) => new Uint8Array(o.size * o.size * 3).fill((shade + f * 8) & 255)),
      });
      const takes = Array.from({ length: request.variations ?? 1 }, (_, t) => ({ seed: request.seed + t, clip: clip(request.seed + t) }));
      const total = Date.now() - started;
      return { takes, timingsMs: { total, encodePrompt: 0, denoise: total, decode: 0 } };
    },
    async dispose() {},
  };
}

/** Media that writes raw frames: isolates the pool's own overhead from ffmpeg's. */
export function rawMedia() {
  const write = async (clip: Clip, opts: { path: string }, contentType: 'video/mp4' | 'image/gif'): Promise<EncodeResult> => {
    const bytes = Buffer.concat(clip.frames);
    await writeFile(opts.path, bytes);
    return { path: opts.path, bytes: bytes.length, width: clip.width, height: clip.height, frames: clip.frames.length, contentType, attempts: 1 };
  };
  return {
    encodeVideo: (clip: Clip, opts: { path: string }) => write(clip, opts, 'video/mp4'),
    encodePreview: (clip: Clip, opts: { path: string }) => write(clip, opts, 'image/gif'),
    encodeTake: async (clip: Clip, opts: { video: { path: string }; preview: { path: string } }) => ({
      video: await write(clip, opts.video, 'video/mp4'),
      preview: await write(clip, opts.preview, 'image/gif'),
    }),
    decodeImage: async (): Promise<Clip> => {
      throw new DailiesError('bad_input', 'The pool benchmark has no inputs to decode.');
    },
    decodeClip: async (): Promise<Clip> => {
      throw new DailiesError('bad_input', 'The pool benchmark has no inputs to decode.');
    },
  };
}
