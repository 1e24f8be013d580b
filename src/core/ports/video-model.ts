import type { PromptVocabulary } from '../prompt-vocabulary.ts';

/**
 * The engine's seam: what callers (CLI, workers, benchmarks) see of a model. Implemented by the
 * diffusion pipeline in models/engine and by the worker's threaded wrapper.
 * Frames are RGB24, row-major, top-left origin, one Uint8Array per frame of width*height*3 bytes.
 */

export interface Clip {
  width: number;
  height: number;
  fps: number;
  frames: Uint8Array[];
}

export interface GenerateRequest {
  prompt: string;
  negativePrompt?: string;
  /** Seed of the first take; take i uses seed + i. */
  seed: number;
  steps?: number;
  guidance?: number;
  frames?: number;
  /** Number of takes rendered together in one batched run. */
  variations?: number;
  /** ddim and dpmpp-2m are deterministic; ddpm adds noise at each step, drawn from the seed. */
  scheduler?: 'ddim' | 'dpmpp-2m' | 'ddpm';
  /** Image-to-video: a still (any size; resized to the model's size) and how much to change it (0..1]. */
  image?: { frame: Clip; strength: number };
  /**
   * Temporal inpainting: frames the model keeps and fills around. `head` frames open the window
   * (continuing a clip forward), `tail` frames close it (leading into a clip: extending backward,
   * a bridge's far end). Each is one clip for every take, or one clip per take (a chain whose
   * takes each continue their own video). Every frame given is known; head + tail must leave at
   * least one new frame. The result holds the whole window: the known frames come back as the
   * model finished them (close to the given ones, in keeping with the new frames), so a caller
   * that needs them exact keeps its own copies.
   * `strength` (0..1], default 1: where the new frames start. 1 is pure noise, as a text-to-video
   * render; below 1 each new frame starts from its nearest known frame with what moved over that
   * side's known frames carried on at its speed (in a window with both sides, a blend of the two
   * by position) noised as image-to-video noises its still, so lower keeps the new frames closer
   * to that start (a chain's joins: continuationStrength in src/core/segment-plan.ts).
   * `earlier` and `later`: lookback, frames further from the window than the known ones, read
   * only below strength 1 to work out where the new frames start, so that what moved is carried on
   * from more than a few frames back: an object that left the frame before the head's first frame,
   * or one seen whole before an edge clipped it. `earlier` are the frames just before the head's
   * first frame and go with `head`; `later` the frames just after the tail's last frame and go with
   * `tail`; both in time order, one clip for every take or one per take, like head and tail. They
   * are not part of the window and never come back (a chain's lookback: LOOKBACK_FRAMES in
   * src/core/segment-plan.ts).
   */
  known?: { head?: Clip[]; tail?: Clip[]; earlier?: Clip[]; later?: Clip[]; strength?: number };
  /** Steps (1-based) after which a preview is decoded; default: about four evenly spaced. */
  previewSteps?: number[];
}

export interface PreviewEvent {
  step: number;
  totalSteps: number;
  /** One decoded preview clip per take, of the predicted clean video at this step. */
  takes: Clip[];
}

export interface StepEvent {
  step: number;
  totalSteps: number;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  onStep?: (e: StepEvent) => void;
  onPreview?: (e: PreviewEvent) => void | Promise<void>;
}

export interface GenerateResult {
  /** One clip per take, in seed order, at the model's native size. */
  takes: { seed: number; clip: Clip }[];
  timingsMs: { total: number; encodePrompt: number; denoise: number; decode: number };
}

export interface VideoModel {
  readonly name: string;
  readonly defaults: {
    frames: number;
    width: number;
    height: number;
    fps: number;
    steps: number;
    guidance: number;
    outputSize: number;
    /** Where this model's chains start new frames (known.strength); absent: CONTINUATION_STRENGTH. */
    continuationStrength?: number;
  };
  /** The words its package declares for the reply grammar (src/core/prompt-vocabulary.ts); absent: none. */
  readonly promptVocabulary?: PromptVocabulary;
  generate(request: GenerateRequest, options?: GenerateOptions): Promise<GenerateResult>;
  dispose(): Promise<void>;
}
