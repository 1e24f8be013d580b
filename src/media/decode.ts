/**
 * Files from users (image-to-video stills, clips to extend) into `Clip`s, and resizing them to
 * the model's size. Inputs are probed against a demuxer whitelist before anything is decoded,
 * so a wrong file gets one clear sentence instead of ffmpeg's log.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Clip } from '../core/ports/video-model.ts';
import { DailiesError, isDailiesError } from '../errors.ts';
import { assertClip, splitFrames } from './clip-check.ts';
import { probeMedia, runFfmpeg, type MediaProbe } from './ffmpeg.ts';
import { IMAGE_DEMUXERS, restrictedInputArgs, VIDEO_DEMUXERS } from './input-formats.ts';
import { resamplerFor, scaleFilter, type Resampler } from './scaling.ts';

export interface DecodeOptions {
  /** File name to show in errors when the input is a buffer (e.g. the chat attachment's name). */
  name?: string;
  /** Largest accepted frame, in pixels; default 4096x4096, which decodes to 48 MiB of RGB. */
  maxPixels?: number;
  signal?: AbortSignal;
}

export interface DecodeClipOptions extends DecodeOptions {
  /** Decode at most this many frames from the start. */
  maxFrames?: number;
  /**
   * Resize every frame to exactly this size while decoding (scaled to cover, the overflow
   * cropped evenly, as `resizeClip` does), so a long video is never held at its full size.
   */
  size?: { width: number; height: number };
  /** Resample to this frame rate (frames are dropped or repeated); default the file's own. */
  fps?: number;
}

export const DEFAULT_MAX_PIXELS = 4096 * 4096;
// Decoded RGB is ~100x the size of the compressed file; this bounds what one upload can cost.
const MAX_DECODED_BYTES = 256 * 1024 * 1024;
const RAW_RGB = ['-f', 'rawvideo', '-pix_fmt', 'rgb24'];

/** The first frame of an image (PNG, JPEG, WebP, BMP, TIFF; first frame of a GIF or APNG). `fps` is 1. */
export async function decodeImage(input: string | Uint8Array, opts: DecodeOptions = {}): Promise<Clip> {
  const name = displayName(input, opts.name);
  const unreadable = (cause?: unknown) =>
    new DailiesError('bad_input', `${subject(name)} is not an image ffmpeg can read; use a PNG, JPEG or WebP.`, { cause });
  return withLocalFile(input, name, async (file) => {
    const inputArgs = restrictedInputArgs(IMAGE_DEMUXERS);
    const { width, height } = frameSize(await probe(file, inputArgs, unreadable), name, opts.maxPixels, unreadable);
    const data = await decodeRaw(file, inputArgs, ['-frames:v', '1', ...RAW_RGB], opts.signal, unreadable);
    const frames = splitFrames(data, width, height);
    if (!frames[0]) throw unreadable();
    return { width, height, fps: 1, frames: [frames[0]] };
  });
}

/** All frames (or the first `maxFrames`) of a video, GIF or image, at a constant frame rate. */
export async function decodeClip(input: string | Uint8Array, opts: DecodeClipOptions = {}): Promise<Clip> {
  const name = displayName(input, opts.name);
  const unreadable = (cause?: unknown) =>
    new DailiesError(
      'bad_input',
      `${subject(name)} is not a video or image ffmpeg can read; use an MP4, WebM, GIF, PNG, JPEG or WebP.`,
      { cause },
    );
  return withLocalFile(input, name, async (file) => {
    const inputArgs = restrictedInputArgs(VIDEO_DEMUXERS);
    const probed = await probe(file, inputArgs, unreadable);
    const source = frameSize(probed, name, opts.maxPixels, unreadable);
    const { width, height } = opts.size ?? source;
    const frameRate = opts.fps !== undefined ? String(opts.fps) : (probed.video?.frameRate ?? '24/1');
    const budget = Math.max(1, Math.floor(MAX_DECODED_BYTES / (width * height * 3)));
    // One past the budget, to tell "exactly fits" from "was cut off".
    const limit = opts.maxFrames !== undefined && opts.maxFrames <= budget ? opts.maxFrames : budget + 1;
    // -r makes variable-rate sources (GIFs with uneven delays) constant-rate, as Clip assumes.
    // The fps filter, not -r alone: -r pads the end with repeated frames when it lowers the rate.
    const filters = [...(opts.size ? [coverFilter(source, opts.size)] : []), ...(opts.fps !== undefined ? [`fps=${opts.fps}`] : [])];
    const filter = filters.length ? ['-vf', filters.join(',')] : [];
    const outputArgs = [...filter, '-r', frameRate, '-frames:v', String(limit), ...RAW_RGB];
    const frames = splitFrames(await decodeRaw(file, inputArgs, outputArgs, opts.signal, unreadable), width, height);
    if (frames.length === 0) throw unreadable();
    if (frames.length > budget) {
      throw new DailiesError(
        'bad_input',
        `${subject(name)} is too long to load at ${width}x${height} (over ${budget} frames); trim or shrink it and try again.`,
      );
    }
    return { width, height, fps: parseRate(frameRate), frames };
  });
}

export interface ResizeOptions {
  /** 'cover' (default) scales to fill and crops the overflow evenly; 'stretch' ignores aspect ratio. */
  fit?: 'cover' | 'stretch';
  signal?: AbortSignal;
}

/**
 * Resizes every frame to exactly `width`x`height`, e.g. a user's still to the model's size.
 * Shrinking uses area averaging (no aliasing); growing uses lanczos, or a halo-free Gaussian from
 * 3x up (see scaling.ts). Returns `clip` itself when the size already matches.
 */
export async function resizeClip(clip: Clip, width: number, height: number, opts: ResizeOptions = {}): Promise<Clip> {
  assertClip(clip);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new DailiesError('internal', `Cannot resize to ${width}x${height}; the target size must be positive whole pixels.`);
  }
  if (width === clip.width && height === clip.height) return clip;
  const filter = opts.fit === 'stretch' ? scaleFilter(width, height, resizeResampler(clip, { width, height })) : coverFilter(clip, { width, height });
  const data = await runFfmpeg({ input: { frames: clip }, outputArgs: ['-vf', filter, ...RAW_RGB], output: 'stdout', signal: opts.signal });
  const frames = splitFrames(data, width, height);
  if (frames.length !== clip.frames.length) {
    throw new DailiesError('internal', `Resizing returned ${frames.length} frames for ${clip.frames.length}; this is a bug in the media module.`);
  }
  return { width, height, fps: clip.fps, frames };
}

type Size = { width: number; height: number };

/** Shrinking averages (no aliasing); growing picks by how much (see scaling.ts). */
function resizeResampler(from: Size, to: Size): Resampler {
  if (to.width * to.height < from.width * from.height) return 'area';
  return resamplerFor(Math.min(to.width / from.width, to.height / from.height));
}

/** Scale to cover `to`, then crop the overflow evenly. */
function coverFilter(from: Size, to: Size): string {
  if (!Number.isInteger(to.width) || !Number.isInteger(to.height) || to.width < 1 || to.height < 1) {
    throw new DailiesError('internal', `Cannot resize to ${to.width}x${to.height}; the target size must be positive whole pixels.`);
  }
  // Computed here rather than with force_original_aspect_ratio, whose rounding can come out
  // a pixel short of the target and make the crop fail.
  const factor = Math.max(to.width / from.width, to.height / from.height);
  const scaledW = Math.max(to.width, Math.ceil(from.width * factor));
  const scaledH = Math.max(to.height, Math.ceil(from.height * factor));
  return `${scaleFilter(scaledW, scaledH, resizeResampler(from, { width: scaledW, height: scaledH }))},crop=${to.width}:${to.height}`;
}

type Unreadable = (cause?: unknown) => DailiesError;

async function probe(file: string, inputArgs: string[], unreadable: Unreadable): Promise<MediaProbe> {
  try {
    return await probeMedia(file, inputArgs);
  } catch (err) {
    if (isDailiesError(err)) throw err;
    throw unreadable(err);
  }
}

async function decodeRaw(file: string, inputArgs: string[], outputArgs: string[], signal: AbortSignal | undefined, unreadable: Unreadable) {
  try {
    return await runFfmpeg({ input: { path: file, args: inputArgs }, outputArgs, output: 'stdout', signal });
  } catch (err) {
    // Probing passed, so a failure here is still the file's fault (truncated, or a variant
    // this ffmpeg cannot decode, such as animated WebP before ffmpeg 7.1).
    if (isDailiesError(err)) throw err;
    throw unreadable(err);
  }
}

function frameSize(probed: MediaProbe, name: string | undefined, maxPixels = DEFAULT_MAX_PIXELS, unreadable: Unreadable) {
  const video = probed.video;
  if (video && video.width < 1 && probed.format === 'webp_pipe') {
    // ffmpeg before 7.1 has no animated WebP demuxer and probes those files as 0x0.
    throw new DailiesError(
      'bad_input',
      `${subject(name)} is an animated WebP, which this ffmpeg cannot read; use a PNG, JPEG or still WebP.`,
    );
  }
  if (!video || video.width < 1 || video.height < 1) throw unreadable();
  // ffmpeg applies a display-matrix rotation while decoding, so the frames come out turned.
  const turned = Math.abs(video.rotation) % 180 === 90;
  const width = turned ? video.height : video.width;
  const height = turned ? video.width : video.height;
  if (width * height > maxPixels) {
    const side = Math.floor(Math.sqrt(maxPixels));
    throw new DailiesError(
      'bad_input',
      `${subject(name)} is ${width}x${height} pixels, more than the ${side}x${side} we accept; scale it down and try again.`,
    );
  }
  return { width, height };
}

function parseRate(rate: string): number {
  const [num = 0, den = 1] = rate.split('/').map(Number);
  return num > 0 && den > 0 ? num / den : 24;
}

/** Paths as given, buffers via a private temp file: ffmpeg needs to seek in most MP4s. */
async function withLocalFile<T>(input: string | Uint8Array, name: string | undefined, use: (file: string) => Promise<T>): Promise<T> {
  if (typeof input === 'string') {
    const info = await stat(input).catch(() => undefined);
    if (!info) throw new DailiesError('not_found', `${subject(name)} does not exist; check the path and try again.`);
    if (!info.isFile()) throw new DailiesError('bad_input', `${subject(name)} is not a regular file; pass an image or video file.`);
    return use(input);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-decode-'));
  try {
    const file = path.join(dir, 'input');
    await writeFile(file, input);
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function displayName(input: string | Uint8Array, name: string | undefined): string | undefined {
  const raw = name ?? (typeof input === 'string' ? path.basename(input) : undefined);
  // Names come from chat uploads: keep the sentence one line and short.
  const clean = raw?.replace(/[\p{Cc}"]/gu, '').slice(0, 80);
  return clean || undefined;
}

function subject(name: string | undefined): string {
  return name ? `The file "${name}"` : 'The uploaded file';
}
