/**
 * Clips to shareable files: an H.264 MP4 for a take, an animated image that chat clients show
 * inline, and a smaller re-encode for chat platforms with low upload caps.
 * Every output is written atomically and fitted to a byte budget (see size-ladder.ts).
 */
import { copyFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DailiesError } from '../errors.ts';
import { writeAtomically } from './atomic-file.ts';
import { toFrameSource, type FrameSource, type VideoInput } from './frame-source.ts';
import { listEncoders, probeMedia, runFfmpeg, type RawVideo } from './ffmpeg.ts';
import { restrictedInputArgs, VIDEO_DEMUXERS } from './input-formats.ts';
import { fitShortSide, resamplerFor, scaleFilter, type Resampler } from './scaling.ts';
import { fitToBudget, SIZE_LADDER, type Rung } from './size-ladder.ts';

export type EncodeQuality = 'draft' | 'standard' | 'finalize';

export interface EncodeOptions {
  /** Final location; nothing appears there unless the whole encode succeeds. */
  path: string;
  /**
   * Short side of the output in pixels; pass the model's `outputSize`. Default 256. How much this
   * upscales the clip picks the resampling filter, here and in previews (see scaling.ts).
   */
  size?: number;
  /** Default 'standard'. 'finalize' also smooths motion (see `smoothFps`). */
  quality?: EncodeQuality;
  /** Starting x264 CRF instead of the quality level's (lower is better, 18 is near-transparent). */
  crf?: number;
  /**
   * Motion-interpolates up to this frame rate (ffmpeg minterpolate, motion-compensated). Default
   * 24 for 'finalize' and off otherwise: it is by far the slowest filter in the chain (tens of
   * milliseconds per output frame at 256 px, several times the rest). Never lowers the clip's
   * own frame rate.
   */
  smoothFps?: number | false;
  /** Byte budget; default 10 MiB. */
  maxBytes?: number;
  /**
   * x264's speed/compression trade-off. Default 'medium', and 'veryfast' for videos longer than
   * LONG_VIDEO_SECONDS: a minute of the built-in model's output encodes 3x faster (1.5 s against
   * 4.5 s on two cores) for a file 1% larger, and that encode is the one step of a chained render
   * that does not shrink as the chain is spread over segments.
   */
  preset?: 'medium' | 'fast' | 'veryfast';
  signal?: AbortSignal;
}

/** Videos longer than this get the faster x264 preset by default (see EncodeOptions.preset). */
export const LONG_VIDEO_SECONDS = 10;

export interface PreviewOptions {
  path: string;
  /** Short side in pixels; default 256. */
  size?: number;
  quality?: EncodeQuality;
  /** Byte budget; default 2 MiB. */
  maxBytes?: number;
  /** 'auto' (default) picks WebP when this ffmpeg has libwebp, else GIF. */
  format?: 'auto' | 'webp' | 'gif';
  signal?: AbortSignal;
}

export interface EncodeResult {
  /** Absolute path of the finished file. */
  path: string;
  bytes: number;
  width: number;
  height: number;
  frames: number;
  contentType: 'video/mp4' | 'image/webp' | 'image/gif';
  /** Encodes it took to fit the budget: 1 when the first fit, 0 when nothing was re-encoded. */
  attempts: number;
}

export const DEFAULT_SIZE = 256;
export const DEFAULT_VIDEO_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_PREVIEW_MAX_BYTES = 2 * 1024 * 1024;

const BASE_CRF: Record<EncodeQuality, number> = { draft: 28, standard: 23, finalize: 18 };
// +6 CRF roughly halves H.264's bitrate, so each ladder step is a real saving.
const CRF_STEP = 6;
// A re-encode for an upload cap starts a notch below 'standard': the caller already knows
// the original is too big, so the first attempt should usually be the last.
const REENCODE_CRF = 26;
const SMOOTH_FPS = 24;
const WEBP_QUALITY: Record<EncodeQuality, number> = { draft: 60, standard: 75, finalize: 85 };
const WEBP_QUALITY_STEP = 25;
const GIF_COLOURS = [256, 96, 32] as const;

/**
 * One output of an encode, ready to run at any rung of the size ladder: its ffmpeg arguments and
 * the pixel size they produce. Planning is separate from running so that `encodeTake` can put
 * two plans into one ffmpeg process.
 */
interface OutputPlan {
  what: 'video' | 'preview';
  maxBytes: number;
  contentType: EncodeResult['contentType'];
  dims(rung: Rung): { width: number; height: number };
  args(rung: Rung): string[];
}

function videoPlan(clip: FrameSource, opts: EncodeOptions): OutputPlan & { interpolateTo?: number } {
  const quality = opts.quality ?? 'standard';
  const baseCrf = opts.crf ?? BASE_CRF[quality];
  const smoothFps = opts.smoothFps ?? (quality === 'finalize' ? SMOOTH_FPS : false);
  const interpolateTo = smoothFps !== false && smoothFps > clip.fps ? smoothFps : undefined;
  const size = checkSize(opts.size ?? DEFAULT_SIZE);
  const preset = opts.preset ?? (clip.frameCount / clip.fps > LONG_VIDEO_SECONDS ? 'veryfast' : 'medium');
  const dims = (rung: Rung) => fitShortSide(clip.width, clip.height, size * rung.scale);
  return {
    what: 'video',
    maxBytes: opts.maxBytes ?? DEFAULT_VIDEO_MAX_BYTES,
    contentType: 'video/mp4',
    ...(interpolateTo ? { interpolateTo } : {}),
    dims,
    args(rung) {
      const out = dims(rung);
      const filters = [h264Scale(out, resamplerFor(out.width / clip.width))];
      const outputArgs: string[] = [];
      if (interpolateTo) {
        // After the upscale: motion search works on 16 px blocks, too coarse for a 32 px source.
        // minterpolate stops at the last input frame's timestamp, which would shorten the clip by
        // one source frame; two cloned frames give it a tail to interpolate, and -frames:v trims
        // the output back to the original duration.
        filters.push('tpad=stop_mode=clone:stop=2', `minterpolate=fps=${interpolateTo}:mi_mode=mci`);
        outputArgs.push('-frames:v', String(Math.round((clip.frameCount * interpolateTo) / clip.fps)));
      }
      outputArgs.push(...h264Args(filters, crfFor(baseCrf, rung), preset));
      return outputArgs;
    },
  };
}

async function previewPlan(clip: FrameSource, opts: PreviewOptions): Promise<OutputPlan> {
  const quality = opts.quality ?? 'standard';
  const format = opts.format === 'webp' || opts.format === 'gif' ? opts.format : await previewFormat();
  const webpEncoder = format === 'webp' ? await webpEncoderName() : undefined;
  if (format === 'webp' && !webpEncoder) {
    throw new DailiesError('missing_dependency', 'This ffmpeg has no libwebp encoder; install an ffmpeg built with libwebp, or ask for a GIF preview.');
  }
  const size = checkSize(opts.size ?? DEFAULT_SIZE);
  const dims = (rung: Rung) => fitShortSide(clip.width, clip.height, size * rung.scale);
  return {
    what: 'preview',
    maxBytes: opts.maxBytes ?? DEFAULT_PREVIEW_MAX_BYTES,
    contentType: format === 'webp' ? 'image/webp' : 'image/gif',
    dims,
    args(rung) {
      const { width, height } = dims(rung);
      const resampler = resamplerFor(width / clip.width);
      const scale = scaleFilter(width, height, resampler);
      if (webpEncoder) return webpArgs(scale, webpEncoder, Math.max(5, WEBP_QUALITY[quality] - WEBP_QUALITY_STEP * rung.qualityStep));
      return gifArgs(scale, GIF_COLOURS[rung.qualityStep], resampler === 'smooth');
    },
  };
}

/** Walks `plan` down the size ladder into `tmp` alone; `firstDone` when rung 0 is already there. */
async function fitPlan(clip: FrameSource, plan: OutputPlan, tmp: string, signal: AbortSignal | undefined, firstDone = false) {
  const fit = await fitToBudget(
    tmp,
    plan.maxBytes,
    plan.what,
    (rung) => runFfmpeg({ input: { frames: rawVideo(clip) }, outputArgs: plan.args(rung), output: tmp, signal }).then(() => undefined),
    { firstDone },
  );
  return { bytes: fit.bytes, attempts: fit.attempts, ...plan.dims(fit.rung) };
}

async function resultOf(clip: FrameSource, plan: OutputPlan & { interpolateTo?: number }, target: string, tmp: string, fit: { bytes: number; attempts: number; width: number; height: number }): Promise<EncodeResult> {
  // Interpolation changes the frame count; ffprobe says by how much rather than trusting arithmetic.
  const frames = plan.interpolateTo ? ((await probeMedia(tmp)).video?.frames ?? 0) : clip.frameCount;
  return { path: path.resolve(target), contentType: plan.contentType, frames, ...fit };
}

/**
 * A take as an MP4. `input` is a clip, or a frame source for long videos (read once per encode
 * attempt, never held whole).
 */
export async function encodeVideo(input: VideoInput, opts: EncodeOptions): Promise<EncodeResult> {
  const clip = toFrameSource(input);
  const plan = videoPlan(clip, opts);
  return writeAtomically(opts.path, async (tmp) => resultOf(clip, plan, opts.path, tmp, await fitPlan(clip, plan, tmp, opts.signal)));
}

/**
 * Animated preview. WebP when this ffmpeg build has libwebp: full colour and typically a
 * fraction of a GIF's size, and Discord, Slack and browsers all animate it. GIF otherwise,
 * with a palette computed from this clip (palettegen/paletteuse), since GIF's 256 colours
 * are too few for a fixed palette.
 */
export async function encodePreview(input: VideoInput, opts: PreviewOptions): Promise<EncodeResult> {
  const clip = toFrameSource(input);
  const plan = await previewPlan(clip, opts);
  return writeAtomically(opts.path, async (tmp) => resultOf(clip, plan, opts.path, tmp, await fitPlan(clip, plan, tmp, opts.signal)));
}

export interface TakeEncodeOptions {
  video: Omit<EncodeOptions, 'signal'>;
  preview: Omit<PreviewOptions, 'signal'>;
  signal?: AbortSignal;
}

/**
 * A take's MP4 and its preview from the same frames, in one ffmpeg process: ffmpeg starts once
 * and reads the frames once for both outputs. For a short take the process start-up is most of
 * each encode, so this is about a third faster than the two separate runs it replaces (see
 * `npm run bench`). An output that comes out over its byte budget then walks the rest of its own
 * ladder alone. Both files appear, or neither.
 */
export async function encodeTake(input: VideoInput, opts: TakeEncodeOptions): Promise<{ video: EncodeResult; preview: EncodeResult }> {
  const clip = toFrameSource(input);
  const video = videoPlan(clip, opts.video);
  const preview = await previewPlan(clip, opts.preview);
  const { signal } = opts;
  return writeAtomically(opts.video.path, (videoTmp) =>
    writeAtomically(opts.preview.path, async (previewTmp) => {
      // 1. Both outputs at the requested quality, one run.
      const first = SIZE_LADDER[0]!;
      await runFfmpeg({
        input: { frames: rawVideo(clip) },
        outputArgs: video.args(first),
        output: videoTmp,
        moreOutputs: [{ path: previewTmp, args: preview.args(first) }],
        signal,
      });
      // 2. Whatever is over its budget goes down its own ladder (rare: budgets are MiBs, a take KiBs).
      const videoFit = await fitPlan(clip, video, videoTmp, signal, true);
      const previewFit = await fitPlan(clip, preview, previewTmp, signal, true);
      return {
        video: await resultOf(clip, video, opts.video.path, videoTmp, videoFit),
        preview: await resultOf(clip, preview, opts.preview.path, previewTmp, previewFit),
      };
    }),
  );
}

/**
 * Re-encodes an MP4 to fit a chat platform's upload cap (e.g. Discord's attachment size
 * limit), which may be lower than our own budget. A file that already fits is copied as is,
 * since every re-encode loses quality.
 */
export async function reencodeToFit(
  inputPath: string,
  maxBytes: number,
  outPath: string,
  opts: { signal?: AbortSignal } = {},
): Promise<EncodeResult> {
  const inputArgs = restrictedInputArgs(VIDEO_DEMUXERS);
  const probe = await probeMedia(inputPath, inputArgs).catch((cause: unknown) => {
    if (cause instanceof DailiesError) throw cause;
    throw notAVideo(inputPath, cause);
  });
  const video = probe.video;
  if (!video || video.width < 1 || video.height < 1) throw notAVideo(inputPath);
  // ffmpeg applies a display-matrix rotation while decoding, so the output is the rotated size.
  const rotated = Math.abs(video.rotation) % 180 === 90;
  const source = rotated ? { width: video.height, height: video.width } : { width: video.width, height: video.height };
  const inputBytes = (await stat(inputPath)).size;

  if (inputBytes <= maxBytes) {
    if (path.resolve(inputPath) !== path.resolve(outPath)) await writeAtomically(outPath, (tmp) => copyFile(inputPath, tmp));
    return { path: path.resolve(outPath), bytes: inputBytes, ...source, frames: video.frames ?? 0, contentType: 'video/mp4', attempts: 0 };
  }

  const shortSide = Math.min(source.width, source.height);
  return writeAtomically(outPath, async (tmp) => {
    let dims = source;
    const fit = await fitToBudget(tmp, maxBytes, 'video', async (rung) => {
      dims = fitShortSide(source.width, source.height, shortSide * rung.scale);
      await runFfmpeg({
        input: { path: inputPath, args: inputArgs },
        outputArgs: h264Args([h264Scale(dims, 'lanczos')], crfFor(REENCODE_CRF, rung)),
        output: tmp,
        signal: opts.signal,
      });
    });
    const frames = (await probeMedia(tmp)).video?.frames ?? 0;
    return { path: path.resolve(outPath), bytes: fit.bytes, ...dims, frames, contentType: 'video/mp4', attempts: fit.attempts } as const;
  });
}

/** One fresh pass over the source for one ffmpeg run. */
function rawVideo(source: FrameSource): RawVideo {
  return { width: source.width, height: source.height, fps: source.fps, frames: source.frames() };
}

function notAVideo(file: string, cause?: unknown): DailiesError {
  return new DailiesError('bad_input', `The file "${path.basename(file)}" is not a video ffmpeg can read; use an MP4.`, { cause });
}

function checkSize(size: number): number {
  if (!Number.isFinite(size) || size < 16) {
    throw new DailiesError('internal', `An output size of ${size} px is invalid; pass a short side of at least 16 pixels.`);
  }
  return size;
}

function crfFor(base: number, rung: Rung): number {
  return Math.min(51, base + CRF_STEP * rung.qualityStep);
}

/**
 * Scales and converts to yuv420p in one step with an explicit BT.709 matrix, which the output
 * is tagged with: untagged video leaves players guessing, and they guess differently.
 */
function h264Scale(dims: { width: number; height: number }, resampler: Resampler): string {
  return `${scaleFilter(dims.width, dims.height, resampler, ['out_color_matrix=bt709', 'out_range=tv'])},format=yuv420p`;
}

function h264Args(filters: string[], crf: number, preset: NonNullable<EncodeOptions['preset']> = 'medium'): string[] {
  return [
    '-an',
    '-vf', filters.join(','),
    '-c:v', 'libx264',
    '-preset', preset,
    '-crf', String(crf),
    '-pix_fmt', 'yuv420p',
    '-colorspace', 'bt709',
    '-color_primaries', 'bt709',
    '-color_trc', 'bt709',
    '-color_range', 'tv',
    // moov before mdat, so chat clients and browsers can start playing before the download ends.
    '-movflags', '+faststart',
    '-f', 'mp4',
  ];
}

function webpArgs(scale: string, encoder: string, quality: number): string[] {
  return ['-an', '-vf', scale, '-c:v', encoder, '-quality', String(quality), '-loop', '0', '-f', 'webp'];
}

/**
 * Photo-like output is dithered, or its gradients band. A large smooth upscale is not: it is flat
 * areas joined by ramps a few pixels wide, which the clip's own palette covers; error diffusion
 * would only add speckle that crawls from frame to frame, and it made the built-in model's GIFs
 * 1.5-1.9x bigger (a long take's 48 frames: 1.6 MiB against 0.8 MiB, of the 2 MiB budget).
 * Its palette is counted on every other pixel each way, which keeps most of the ramps' colours:
 * counting them all took 3.5x the CPU time of a nearest-neighbour GIF, this way under 2x.
 */
function gifArgs(scale: string, colours: number, smoothUpscale: boolean): string[] {
  const counted = smoothUpscale ? 'scale=iw/2:ih/2:flags=neighbor,' : '';
  const dither = smoothUpscale ? 'none' : 'sierra2_4a';
  const graph = `${scale},split[a][b];[a]${counted}palettegen=max_colors=${colours}[p];[b][p]paletteuse=dither=${dither}`;
  return ['-an', '-vf', graph, '-loop', '0', '-f', 'gif'];
}

async function previewFormat(): Promise<'webp' | 'gif'> {
  return (await webpEncoderName()) ? 'webp' : 'gif';
}

/** libwebp_anim diffs consecutive frames, so it beats plain libwebp on animations; either works. */
async function webpEncoderName(): Promise<string | undefined> {
  const encoders = await listEncoders();
  return ['libwebp_anim', 'libwebp'].find((name) => encoders.has(name));
}
