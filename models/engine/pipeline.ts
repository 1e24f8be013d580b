import { performance } from 'node:perf_hooks';
import { DailiesError } from '../../src/errors.ts';
import type { ModelManifest, SchedulerConfig } from './manifest.ts';
import { BatchNoise } from './noise.ts';
import { startFrames, type Lookback } from './start-frames.ts';
import { floatTensor, intTensor, toFloat32, type EngineTensor, type OnnxSession } from './ort.ts';
import { chwToRgb, rgbToChw } from './pixels.ts';
import { checkRequest, defaultPreviewSteps, type ResolvedRequest } from './request-schema.ts';
import { createScheduler as defaultCreateScheduler, type Scheduler, type SchedulerName } from './schedulers/index.ts';
import type { Tokenizer } from './tokenizer.ts';
import type { Clip, GenerateOptions, GenerateRequest, GenerateResult, VideoModel } from '../../src/core/ports/video-model.ts';
import { batchDims, copyFrames, readFrame, takeSize, tile, writeFrame, type VideoShape } from './video-tensor.ts';

export type SchedulerFactory = (name: SchedulerName, config: SchedulerConfig) => Scheduler;

export interface PipelineParts {
  manifest: ModelManifest;
  tokenizer: Tokenizer;
  textEncoder: OnnxSession;
  denoiser: OnnxSession;
  vaeDecoder?: OnnxSession;
  vaeEncoder?: OnnxSession;
  /** Defaults to the engine's schedulers; tests may inject another. */
  createScheduler?: SchedulerFactory;
}

/** Temporal inpainting: clean known content for the first `head` and last `tail` frames of every take. */
interface KnownFrames {
  /** A whole batch in the sample's layout; only the known frames are read. */
  data: Float32Array;
  head: number;
  tail: number;
  /** Where the new frames start: 1 pure noise, below 1 the nearest known frame carried on, part-way noised (start-frames.ts). */
  strength: number;
  /** Below strength 1 only: each take's frames beyond its known ones, encoded, that the start reads (start-frames.ts). */
  lookback?: Lookback;
}

interface TextEmbedding {
  data: Float32Array;
  /** Tokens x width of one row. */
  tokens: number;
  width: number;
}

/**
 * Text-to-video diffusion over ONNX graphs described by a ModelManifest: pixel- or latent-space,
 * any layout and timestep convention the manifest declares. All takes of a request and both
 * halves of classifier-free guidance go through the denoiser together, one call per step.
 */
export class DiffusionPipeline implements VideoModel {
  readonly name: string;
  readonly defaults: VideoModel['defaults'];
  readonly promptVocabulary: VideoModel['promptVocabulary'];
  private readonly m: ModelManifest;
  private readonly createScheduler: SchedulerFactory;
  private disposed = false;

  constructor(private readonly parts: PipelineParts) {
    this.m = parts.manifest;
    this.name = this.m.name;
    const { negativePrompt: _unused, ...defaults } = this.m.defaults;
    this.defaults = defaults;
    this.promptVocabulary = this.m.promptVocabulary;
    this.createScheduler = parts.createScheduler ?? defaultCreateScheduler;
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const { signal, onStep, onPreview } = options;
    const started = performance.now();

    // ---- 1. Check inputs ----------------------------------------------------------------
    if (this.disposed) throw new DailiesError('unavailable', `Model ${this.name} has been unloaded; load it again before generating.`, { retryable: true });
    const req = checkRequest(request, this.m);
    checkAborted(signal);
    const scheduler = this.createScheduler(req.scheduler, this.m.scheduler);
    // Image-to-video and continuations below strength 1 skip the noisiest steps (SDEdit).
    scheduler.setTimesteps(req.steps, req.image?.strength ?? req.known?.strength);
    const timesteps = scheduler.timesteps;
    const totalSteps = timesteps.length;
    const previewSteps = new Set(req.previewSteps ?? defaultPreviewSteps(totalSteps));
    const shape = this.videoShape(req.frames);
    const takes = req.variations;
    const perTake = takeSize(shape);
    // diffusers' rule: guidance <= 1 is the conditional prediction alone, so skip the other half.
    const guided = req.guidance > 1;
    const rows = guided ? 2 * takes : takes;

    // ---- 2. Encode prompt (unconditional rows first, as diffusers orders them) ----------
    const cond = await this.encodeText(req.prompt);
    const uncond = guided ? await this.encodeText(req.negativePrompt) : undefined;
    const context = new Float32Array(rows * cond.data.length);
    for (let r = 0; r < rows; r++) context.set(uncond && r < takes ? uncond.data : cond.data, r * cond.data.length);
    const contextTensor = floatTensor(context, [rows, cond.tokens, cond.width], this.m.components.denoiser.inputs.encoderHiddenStates.dtype);
    const encodedAt = performance.now();
    checkAborted(signal);

    // ---- 3. Prepare latents (take i's noise comes from seed + i) ------------------------
    // A stochastic scheduler draws each step's fresh noise from the same per-take streams.
    const noiseStreams = new BatchNoise(req.seed, takes, perTake);
    const noise = noiseStreams.next();
    let latents: Float32Array;
    const known = req.known && (await this.knownFrames(req.known, shape, takes));
    const cleanKnown = this.m.components.denoiser.knownFrames === 'clean';
    if (req.image) {
      // Image-to-video (SDEdit): the still on every frame, noised to the first kept timestep.
      const still = (await this.encodeFrames([req.image.frame.frames[0]!], req.image.frame))[0]!;
      const clean = new Float32Array(perTake);
      for (let f = 0; f < shape.frames; f++) writeFrame(clean, shape, 0, f, still);
      latents = scheduler.addNoise(tile(clean, takes), noise, timesteps[0]!);
    } else if (known && known.strength < 1) {
      // Continuation (SDEdit): every new frame starts as its nearest known frame with what moves
      // in it carried on, the known frames as themselves, all noised to the first kept timestep.
      // The model then only has to clean up a move already under way, instead of placing the
      // content afresh from the prompt.
      latents = scheduler.addNoise(startFrames(known.data, known.head, known.tail, shape, takes, known.lookback), noise, timesteps[0]!);
    } else {
      latents = noise.map((v) => v * scheduler.initNoiseSigma);
    }
    // Temporal inpainting: known frames start as their own content, at the first noise level or clean.
    const knownAt = (t: number) => (cleanKnown ? known!.data : scheduler.addNoise(known!.data, noise, t));
    if (known) keepKnown(latents, knownAt(timesteps[0]!), known, shape, takes);

    // ---- 4. Denoise: one batched call per step -----------------------------------------
    const den = this.m.components.denoiser;
    const sampleDims = batchDims(shape, rows);
    const input = new Float32Array(rows * perTake);
    for (let i = 0; i < totalSteps; i++) {
      checkAborted(signal);
      const t = timesteps[i]!;
      input.set(latents, 0);
      if (guided) input.set(latents, takes * perTake);
      const out = await this.parts.denoiser.run(
        {
          [den.inputs.sample.name]: floatTensor(input, sampleDims, den.inputs.sample.dtype),
          [den.inputs.timestep.name]: this.timestepTensor(t, rows),
          [den.inputs.encoderHiddenStates.name]: contextTensor,
        },
        [den.outputs.prediction.name],
      );
      const prediction = toFloat32(out[den.outputs.prediction.name]!);
      const modelOutput = guided ? combineGuidance(prediction, takes * perTake, req.guidance) : prediction;
      const stepNoise = scheduler.stochastic && i + 1 < totalSteps ? noiseStreams.next() : undefined;
      const { prevSample, predictedOriginal } = scheduler.step(modelOutput, i, latents, stepNoise);
      latents = prevSample;
      const next = timesteps[i + 1];
      if (known && next !== undefined) {
        // Known frames follow their own content down the noise levels (or stay clean, for a
        // denoiser trained so: manifest knownFrames): at every step the model sees them as it
        // expects and makes the new frames agree. After the last step they stay as the model
        // finished them, its own version of them in keeping with the new frames (which are the
        // same either way): a chain fades its frames into that version at a join (fadeAtJoin in
        // src/core/segment-plan.ts).
        keepKnown(latents, knownAt(next), known, shape, takes);
      }
      // Previews show the known frames as given, not the model's guess at them.
      if (known) keepKnown(predictedOriginal, known.data, known, shape, takes);
      onStep?.({ step: i + 1, totalSteps });
      if (onPreview && previewSteps.has(i + 1)) {
        await onPreview({ step: i + 1, totalSteps, takes: await this.previewClips(predictedOriginal, shape, takes) });
      }
    }
    const denoisedAt = performance.now();
    checkAborted(signal);

    // ---- 5. Decode ----------------------------------------------------------------------
    const clips = await this.decodeClips(latents, shape, takes);
    const decodedAt = performance.now();

    // ---- 6. Return takes and timings ----------------------------------------------------
    return {
      takes: clips.map((clip, i) => ({ seed: req.seed + i, clip })),
      timingsMs: {
        total: decodedAt - started,
        encodePrompt: encodedAt - started,
        denoise: denoisedAt - encodedAt,
        decode: decodedAt - denoisedAt,
      },
    };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const { textEncoder, denoiser, vaeDecoder, vaeEncoder } = this.parts;
    await Promise.all([textEncoder, denoiser, vaeDecoder, vaeEncoder].map((s) => s?.dispose()));
  }

  private videoShape(frames: number): VideoShape {
    const { space, defaults } = this.m;
    const down = space.kind === 'latent' ? space.downsample : 1;
    return { channels: space.channels, frames, height: defaults.height / down, width: defaults.width / down, layout: this.m.components.denoiser.layout };
  }

  private async encodeText(text: string): Promise<TextEmbedding> {
    const te = this.m.components.textEncoder;
    const enc = this.parts.tokenizer.encode(text);
    const dims = [1, enc.ids.length];
    const feeds: Record<string, EngineTensor> = { [te.inputs.inputIds.name]: { type: te.inputs.inputIds.dtype, data: enc.ids, dims } };
    if (te.inputs.attentionMask) {
      const { name, dtype } = te.inputs.attentionMask;
      feeds[name] = dtype === 'float32' || dtype === 'float16' ? floatTensor(Float32Array.from(enc.attentionMask, Number), dims, dtype) : intTensor(Array.from(enc.attentionMask, Number), dims, dtype);
    }
    const out = await this.parts.textEncoder.run(feeds, [te.outputs.hiddenStates.name]);
    const hidden = out[te.outputs.hiddenStates.name]!;
    const [, tokens, width] = hidden.dims;
    if (hidden.dims.length !== 3 || !tokens || !width) {
      throw new DailiesError('model_invalid', `The text encoder output "${te.outputs.hiddenStates.name}" has shape [${hidden.dims.join(',')}], not [batch,tokens,width]; map the hidden-states output in the model's manifest.`);
    }
    return { data: Float32Array.from(toFloat32(hidden)), tokens, width };
  }

  /** Timestep as the graph declares it: int or float, one value or one per batch row. */
  private timestepTensor(t: number, rows: number): EngineTensor {
    const spec = this.m.components.denoiser.inputs.timestep;
    const rank0 = this.parts.denoiser.input(spec.name)?.shape.length === 0;
    const dims = spec.shape === 'batch' ? [rows] : rank0 ? [] : [1];
    const count = spec.shape === 'batch' ? rows : 1;
    return spec.dtype === 'int64' || spec.dtype === 'int32'
      ? intTensor(new Array<number>(count).fill(t), dims, spec.dtype)
      : floatTensor(new Float32Array(count).fill(t), dims, spec.dtype);
  }

  /**
   * Known clips placed at both ends of every take's window: a side's single clip goes to every
   * take (encoded once), or clip i to take i. Lookback clips are encoded the same way, but only
   * below strength 1, the one place they are read (at 1 the new frames start from noise).
   */
  private async knownFrames(known: NonNullable<ResolvedRequest['known']>, shape: VideoShape, takes: number): Promise<KnownFrames> {
    const data = new Float32Array(takes * takeSize(shape));
    const head = known.head?.[0]!.frames.length ?? 0;
    const tail = known.tail?.[0]!.frames.length ?? 0;
    for (const [clips, first] of [[known.head, 0], [known.tail, shape.frames - tail]] as const) {
      if (!clips) continue;
      const encoded = await this.encodeTakes(clips, takes);
      for (let b = 0; b < takes; b++) encoded[b]!.forEach((chw, f) => writeFrame(data, shape, b, first + f, chw));
    }
    const lookback = known.strength < 1 && (known.earlier || known.later) ? { earlier: await this.encodeTakes(known.earlier, takes), later: await this.encodeTakes(known.later, takes) } : undefined;
    return { data, head, tail, strength: known.strength, ...(lookback && { lookback }) };
  }

  /** Each take's frames of a side given as 1 clip for every take (encoded once, shared) or one per take; none: empty. */
  private async encodeTakes(clips: Clip[] | undefined, takes: number): Promise<Float32Array[][]> {
    if (!clips) return Array.from({ length: takes }, () => []);
    const encoded: Float32Array[][] = [];
    for (const clip of clips) encoded.push(await this.encodeFrames(clip.frames, clip));
    return Array.from({ length: takes }, (_, b) => encoded[clips.length === 1 ? 0 : b]!);
  }

  /** RGB24 frames -> what the denoiser works on (CHW pixels, or scaled VAE latents). */
  private async encodeFrames(frames: Uint8Array[], from: Clip): Promise<Float32Array[]> {
    const { width, height } = this.m.defaults;
    const pixels = frames.map((f) => rgbToChw(f, from.width, from.height, width, height));
    const space = this.m.space;
    if (space.kind === 'pixel') return pixels;
    const enc = this.m.components.vaeEncoder;
    const session = this.parts.vaeEncoder;
    if (!enc || !session) {
      throw new DailiesError('bad_input', `Model ${this.name} has no VAE encoder, so it cannot start from an image or keep known frames (extend or bridge a clip); drop that option or use a model folder with vae_encoder/model.onnx.`);
    }
    const batch = this.m.components.vaeDecoder?.frameBatch ?? 8;
    const out: Float32Array[] = [];
    for (let start = 0; start < pixels.length; start += batch) {
      const chunk = pixels.slice(start, start + batch);
      const input = new Float32Array(chunk.length * 3 * width * height);
      chunk.forEach((p, i) => input.set(p, i * p.length));
      const result = await session.run({ [enc.inputs.image.name]: floatTensor(input, [chunk.length, 3, height, width], enc.inputs.image.dtype) }, [enc.outputs.latent.name]);
      const latent = result[enc.outputs.latent.name]!;
      const data = toFloat32(latent);
      const [n, c, h, w] = latent.dims as number[];
      const plane = h! * w!;
      // Encoders that return the distribution's parameters give mean then log-variance: use the mean.
      if (n !== chunk.length || (c !== space.channels && c !== 2 * space.channels) || h! * space.downsample !== height || w! * space.downsample !== width) {
        throw new DailiesError('model_invalid', `The VAE encoder returned [${latent.dims.join(',')}] for ${chunk.length} frames of ${width}x${height}; it does not match the manifest's latent space.`);
      }
      for (let i = 0; i < n; i++) {
        const one = new Float32Array(space.channels * plane);
        for (let k = 0; k < one.length; k++) one[k] = data[i * c * plane + k]! * space.scalingFactor;
        out.push(one);
      }
    }
    return out;
  }

  /** Final frames: pixels directly, latents through the VAE decoder. */
  private async decodeClips(latents: Float32Array, shape: VideoShape, takes: number): Promise<Clip[]> {
    const { defaults, space } = this.m;
    if (space.kind === 'pixel') return this.pixelClips(latents, shape, takes);
    const dec = this.m.components.vaeDecoder!;
    const session = this.parts.vaeDecoder!;
    const scale = 1 / space.scalingFactor;
    const plane = shape.height * shape.width;
    const frameSize = shape.channels * plane;
    const clips: Clip[] = Array.from({ length: takes }, () => ({ width: 0, height: 0, fps: defaults.fps, frames: [] }));
    const emit = (take: number, out: EngineTensor, frameAxis: 1 | 2): void => {
      const data = toFloat32(out);
      const dims = out.dims as number[];
      const [oh, ow] = dims.slice(-2) as [number, number];
      const count = frameAxis === 1 ? dims[0]! : dims[2]!;
      const clip = clips[take]!;
      clip.width = ow;
      clip.height = oh;
      for (let f = 0; f < count; f++) {
        const chw = new Float32Array(3 * oh * ow);
        for (let c = 0; c < 3; c++) {
          // per-frame output is [n,3,H,W]; video output is [1,3,F,H,W].
          const at = frameAxis === 1 ? (f * 3 + c) * oh * ow : (c * count + f) * oh * ow;
          chw.set(data.subarray(at, at + oh * ow), c * oh * ow);
        }
        clip.frames.push(chwToRgb(chw, ow, oh));
      }
    };
    for (let b = 0; b < takes; b++) {
      if (dec.mode === 'video') {
        const input = new Float32Array(takeSize(shape));
        for (let f = 0; f < shape.frames; f++) {
          const frame = readFrame(latents, shape, b, f);
          for (let c = 0; c < shape.channels; c++) {
            for (let p = 0; p < plane; p++) input[(c * shape.frames + f) * plane + p] = frame[c * plane + p]! * scale;
          }
        }
        const out = await session.run({ [dec.inputs.latent.name]: floatTensor(input, [1, shape.channels, shape.frames, shape.height, shape.width], dec.inputs.latent.dtype) }, [dec.outputs.sample.name]);
        emit(b, out[dec.outputs.sample.name]!, 2);
        continue;
      }
      for (let start = 0; start < shape.frames; start += dec.frameBatch) {
        const n = Math.min(dec.frameBatch, shape.frames - start);
        const input = new Float32Array(n * frameSize);
        for (let k = 0; k < n; k++) {
          const frame = readFrame(latents, shape, b, start + k);
          for (let j = 0; j < frameSize; j++) input[k * frameSize + j] = frame[j]! * scale;
        }
        const out = await session.run({ [dec.inputs.latent.name]: floatTensor(input, [n, shape.channels, shape.height, shape.width], dec.inputs.latent.dtype) }, [dec.outputs.sample.name]);
        emit(b, out[dec.outputs.sample.name]!, 1);
      }
    }
    return clips;
  }

  /** Preview of the predicted clean video: cheap linear map for latents when the manifest has one. */
  private async previewClips(x0: Float32Array, shape: VideoShape, takes: number): Promise<Clip[]> {
    const space = this.m.space;
    if (space.kind === 'pixel') return this.pixelClips(x0, shape, takes);
    const factors = space.previewRgbFactors;
    if (!factors) return this.decodeClips(x0, shape, takes);
    const plane = shape.height * shape.width;
    return Array.from({ length: takes }, (_, b) => {
      const frames: Uint8Array[] = [];
      for (let f = 0; f < shape.frames; f++) {
        const latent = readFrame(x0, shape, b, f);
        const rgb = new Float32Array(3 * plane);
        for (let c = 0; c < shape.channels; c++) {
          const row = factors[c]!;
          for (let p = 0; p < plane; p++) {
            const v = latent[c * plane + p]!;
            for (let k = 0; k < 3; k++) rgb[k * plane + p]! += v * row[k]!;
          }
        }
        frames.push(chwToRgb(rgb, shape.width, shape.height));
      }
      return { width: shape.width, height: shape.height, fps: this.m.defaults.fps, frames };
    });
  }

  private pixelClips(data: Float32Array, shape: VideoShape, takes: number): Clip[] {
    return Array.from({ length: takes }, (_, b) => ({
      width: shape.width,
      height: shape.height,
      fps: this.m.defaults.fps,
      frames: Array.from({ length: shape.frames }, (_, f) => chwToRgb(readFrame(data, shape, b, f), shape.width, shape.height)),
    }));
  }
}

/** Copies the known frames at both ends of every take from `source` into `target`. */
function keepKnown(target: Float32Array, source: Float32Array, known: KnownFrames, shape: VideoShape, takes: number): void {
  copyFrames(target, source, shape, takes, 0, known.head);
  copyFrames(target, source, shape, takes, shape.frames - known.tail, shape.frames);
}

/** uncond + g * (cond - uncond); `prediction` holds the unconditional half first. */
function combineGuidance(prediction: Float32Array, half: number, guidance: number): Float32Array {
  const out = new Float32Array(half);
  for (let k = 0; k < half; k++) {
    const u = prediction[k]!;
    out[k] = u + guidance * (prediction[half + k]! - u);
  }
  return out;
}

function checkAborted(signal: AbortSignal | undefined): void {
  try {
    signal?.throwIfAborted();
  } catch (cause) {
    throw new DailiesError('cancelled', 'The generation was cancelled before it finished; start it again to get a video.', { cause });
  }
}
