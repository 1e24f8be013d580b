import { z } from 'zod';
import { SCHEDULER_NAMES } from './schedulers/names.ts';
import { PromptVocabulary } from '../../src/core/prompt-vocabulary.ts';

/**
 * `model.json`: everything the pipeline needs to run a model package without guessing.
 * A diffusers/optimum ONNX folder has no model.json; `diffusers-layout.ts` builds the same
 * structure from its `model_index.json` and sub-folders, so the pipeline only ever sees this.
 */

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');
const relativeFile = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), 'must be a path inside the model folder');

export const FileRef = z.object({
  file: relativeFile,
  /** Optional for folders opened as-is (diffusers layout); required in model.json packages. */
  sha256: sha256.optional(),
});
export type FileRef = z.infer<typeof FileRef>;

export const TensorDtype = z.enum(['float32', 'float16', 'int64', 'int32']);
export type TensorDtype = z.infer<typeof TensorDtype>;

/** A named graph input or output, with the dtype the graph declares. */
export const TensorSpec = z.object({
  name: z.string().min(1),
  dtype: TensorDtype,
});

export const OnnxComponent = FileRef.extend({
  /** Weights stored beside the graph (models over 2 GB keep them out of the .onnx). */
  externalData: z.array(FileRef).default([]),
});

export const TextEncoderSpec = OnnxComponent.extend({
  inputs: z.object({ inputIds: TensorSpec, attentionMask: TensorSpec.optional() }),
  outputs: z.object({ hiddenStates: TensorSpec }),
});

export const DenoiserSpec = OnnxComponent.extend({
  inputs: z.object({
    sample: TensorSpec,
    /** int64 or float32, one value ([1]) or one per batch row ([B]): exports differ. */
    timestep: TensorSpec.extend({ shape: z.enum(['scalar', 'batch']) }),
    encoderHiddenStates: TensorSpec,
  }),
  outputs: z.object({ prediction: TensorSpec }),
  /** Axis order of `sample`: B batch, C channels, F frames, H, W. */
  layout: z.enum(['BCFHW', 'BFCHW']).default('BCFHW'),
  /**
   * How the known frames of temporal inpainting (extend, bridge, a chain's segments) are put in
   * the sample at every step: `noised` to the step's noise level, as any diffusion model can take
   * them, or `clean`, for a denoiser trained to see given frames noise-free beside noisy new ones
   * (shapes-v2: train.py --context-rate), which then reads exactly where they leave the content.
   */
  knownFrames: z.enum(['noised', 'clean']).default('noised'),
});

export const VaeDecoderSpec = OnnxComponent.extend({
  inputs: z.object({ latent: TensorSpec }),
  outputs: z.object({ sample: TensorSpec }),
  /** Image VAEs decode one frame at a time ([N,C,h,w]); video VAEs take [B,C,F,h,w]. */
  mode: z.enum(['per-frame', 'video']).default('per-frame'),
  /** Frames per decoder call in per-frame mode (bounds memory on big models). */
  frameBatch: z.number().int().positive().default(8),
});

/** Encodes pixels to latents: image-to-video and extension of latent models need it. */
export const VaeEncoderSpec = OnnxComponent.extend({
  /** `image` takes [N,3,H,W] in [-1,1]; `latent` gives [N,C,h,w], or [N,2C,h,w] mean then log-variance. */
  inputs: z.object({ image: TensorSpec }),
  outputs: z.object({ latent: TensorSpec }),
});

export const TokenizerSpec = z.discriminatedUnion('kind', [
  /** A Hugging Face `tokenizer.json` (+ optional `tokenizer_config.json`). */
  z.object({
    kind: z.literal('tokenizer-json'),
    file: FileRef,
    config: FileRef.optional(),
    maxLength: z.number().int().positive(),
    padId: z.number().int().nonnegative(),
    /** Token ids the pipeline wraps around the text, e.g. CLIP's start/end. */
    bosId: z.number().int().nonnegative().optional(),
    eosId: z.number().int().nonnegative().optional(),
  }),
  /** CLIP "slow" tokenizer files (vocab.json + merges.txt), as diffusers folders ship them. */
  z.object({
    kind: z.literal('clip-bpe'),
    vocab: FileRef,
    merges: FileRef,
    maxLength: z.number().int().positive().default(77),
    /** CLIP pads with `<|endoftext|>`; OpenCLIP-based folders (e.g. Stable Diffusion 2's) pad with `!`. */
    padToken: z.string().min(1).default('<|endoftext|>'),
  }),
]);
export type TokenizerSpec = z.infer<typeof TokenizerSpec>;

export const SchedulerConfig = z.object({
  numTrainTimesteps: z.number().int().positive().default(1000),
  betaSchedule: z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']),
  betaStart: z.number().positive().default(0.0001),
  betaEnd: z.number().positive().default(0.02),
  predictionType: z.enum(['epsilon', 'v_prediction']),
  timestepSpacing: z.enum(['leading', 'trailing', 'linspace']).default('leading'),
  /** Offset added to "leading" timesteps (Stable Diffusion style configs use 1). */
  stepsOffset: z.number().int().nonnegative().default(0),
  /** DDIM's last step lands on alpha_cumprod = 1 (true, diffusers' default) or on alpha_cumprod[0] (ModelScope, SD). */
  setAlphaToOne: z.boolean().default(true),
  /** The solver used unless a request names another. */
  default: z.enum(SCHEDULER_NAMES).default('dpmpp-2m'),
});
export type SchedulerConfig = z.infer<typeof SchedulerConfig>;

const Range = z.object({ min: z.number(), max: z.number() }).refine((r) => r.min <= r.max, 'min must not exceed max');

export const ModelDefaults = z.object({
  frames: z.number().int().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fps: z.number().positive(),
  steps: z.number().int().positive(),
  guidance: z.number().nonnegative(),
  /** Frames are upscaled (nearest/lanczos by the encoder) so the short side reaches this. */
  outputSize: z.number().int().positive(),
  negativePrompt: z.string().default(''),
  /**
   * Where a chain's new frames start (GenerateRequest.known.strength) with this model; absent:
   * CONTINUATION_STRENGTH (src/core/segment-plan.ts), measured on shapes-v1.
   */
  continuationStrength: z.number().gt(0).max(1).optional(),
});

export const ModelManifest = z.object({
  format: z.literal('dailies-model/1'),
  name: z.string().min(1).max(100),
  description: z.string().default(''),
  /** Pixel models denoise RGB in [-1, 1]; latent models denoise VAE latents. */
  space: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('pixel'), channels: z.literal(3) }),
    z.object({
      kind: z.literal('latent'),
      channels: z.number().int().positive(),
      scalingFactor: z.number().positive(),
      /** Pixels per latent cell along each spatial axis (8 for SD-family VAEs). */
      downsample: z.number().int().positive(),
      /** Cheap preview: per-channel linear map latent -> RGB, rows are latent channels. */
      previewRgbFactors: z.array(z.array(z.number()).length(3)).optional(),
    }),
  ]),
  components: z.object({
    textEncoder: TextEncoderSpec,
    denoiser: DenoiserSpec,
    vaeDecoder: VaeDecoderSpec.optional(),
    vaeEncoder: VaeEncoderSpec.optional(),
  }),
  tokenizer: TokenizerSpec,
  scheduler: SchedulerConfig,
  defaults: ModelDefaults,
  limits: z.object({
    frames: Range,
    steps: Range,
    guidance: Range,
    variations: Range,
  }),
  /**
   * The words the model was trained on, per clause class of the reply grammar: `colours`,
   * `motions`, `directions` (words after a motion) and `backgrounds` (background nouns), each a
   * list of phrases, e.g. `{ "motions": ["moving", "growing", "still"] }`. A reply then replaces
   * "growing" when someone writes "moving up". Classes left out keep the grammar's built-in
   * English words (src/core/prompt-vocabulary.ts); so does a model without this field.
   */
  promptVocabulary: PromptVocabulary.optional(),
});
export type ModelManifest = z.infer<typeof ModelManifest>;
export type ModelManifestInput = z.input<typeof ModelManifest>;
