import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDailiesError } from '../../src/errors.ts';
import { probeMedia, runFfmpeg, FfmpegError, type MediaProbe } from '../../src/media/ffmpeg.ts';
import { restrictedInputArgs } from '../../src/media/input-formats.ts';

/**
 * An image someone uploads to the web chat, made fit to keep and to animate. The type is read from
 * the bytes (magic numbers), never from the request's header; ffmpeg reads it with that one
 * format's demuxer only, under the pixel cap the worker decodes with; then the picture is encoded
 * afresh from its pixels, so nothing else survives: no EXIF (GPS position, camera serial, time),
 * XMP or text chunks, no bytes hidden after the image. EXIF orientation is applied first
 * (ffmpeg turns the frame while decoding), so the still is upright as the browser showed it.
 */

export const UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type UploadType = (typeof UPLOAD_TYPES)[number];

interface Format {
  label: string;
  ext: string;
  demuxer: string;
  magic: (bytes: Buffer) => boolean;
  /** Encoder and muxer arguments; JPEG is encoded again as JPEG so a photo keeps its size. */
  encode: string[];
}

const FORMATS: Record<UploadType, Format> = {
  'image/png': {
    label: 'PNG',
    ext: 'png',
    demuxer: 'png_pipe',
    magic: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    encode: ['-c:v', 'png', '-f', 'image2pipe'],
  },
  'image/jpeg': {
    label: 'JPEG',
    ext: 'jpg',
    demuxer: 'jpeg_pipe',
    magic: (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
    encode: ['-c:v', 'mjpeg', '-q:v', '2', '-pix_fmt', 'yuvj420p', '-f', 'image2pipe'],
  },
  'image/webp': {
    label: 'WebP',
    ext: 'webp',
    demuxer: 'webp_pipe',
    magic: (b) => b.length > 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP',
    encode: ['-c:v', 'libwebp', '-quality', '90', '-f', 'webp'],
  },
};

// Only pixels go out: no container or stream metadata, and no encoder name (bitexact).
const STRIP = ['-map', '0:v:0', '-frames:v', '1', '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact'];
const ENCODE_TIMEOUT_MS = 30_000;

export interface CleanImage {
  data: Buffer;
  contentType: UploadType;
  ext: string;
  width: number;
  height: number;
}

/** Why an upload is refused: the HTTP status and one sentence for the person. */
export interface UploadRefusal {
  status: 400 | 403 | 413 | 415 | 429;
  message: string;
}

export function isUploadType(type: string): type is UploadType {
  return (UPLOAD_TYPES as readonly string[]).includes(type);
}

/** The upload type the bytes are, by their magic numbers, or null. */
export function sniffImage(bytes: Buffer): UploadType | null {
  return UPLOAD_TYPES.find((type) => FORMATS[type].magic(bytes)) ?? null;
}

export function megabytes(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}

/**
 * The upload with everything but its pixels removed, or why it is refused. Throws only for
 * what is not the file's fault (ffmpeg missing).
 */
export async function cleanImage(bytes: Buffer, limits: { maxBytes: number; maxPixels: number }): Promise<CleanImage | UploadRefusal> {
  const type = sniffImage(bytes);
  if (!type) return { status: 400, message: 'The uploaded file is not a PNG, JPEG or WebP image (its bytes are not one); choose an image file.' };
  const format = FORMATS[type];
  const damaged: UploadRefusal = { status: 400, message: `The uploaded file starts like a ${format.label} image but cannot be read as one; export it again and upload the new file.` };
  // The bytes already said which format this is: ffmpeg is told, rather than left to guess (its
  // guess can prefer another demuxer, by file name or by a low score for an unusual header).
  const inputArgs = ['-f', format.demuxer, ...restrictedInputArgs([format.demuxer])];
  const dir = await mkdtemp(join(tmpdir(), 'dailies-upload-'));
  try {
    const input = join(dir, 'input');
    const output = join(dir, 'clean');
    await writeFile(input, bytes);
    const probed = await fileFault(() => probeMedia(input, inputArgs));
    if (!probed) return damaged;
    const size = frameOf(probed);
    // ffmpeg before 7.1 has no animated WebP decoder and probes those files as 0x0.
    if (!size && type === 'image/webp') return { status: 400, message: 'The uploaded file is an animated WebP, which this server cannot read; upload a PNG, JPEG or still WebP.' };
    if (!size) return damaged;
    if (size.width * size.height > limits.maxPixels) {
      const side = Math.floor(Math.sqrt(limits.maxPixels));
      return { status: 400, message: `The image is ${size.width}x${size.height} pixels, more than the ${side}x${side} this server accepts; scale it down and upload it again.` };
    }
    const encoded = await fileFault(() =>
      runFfmpeg({ input: { path: input, args: inputArgs }, outputArgs: [...STRIP, ...format.encode], output, signal: AbortSignal.timeout(ENCODE_TIMEOUT_MS) }),
    );
    if (encoded === null) return damaged;
    // Measured on the result: an EXIF orientation turns the picture while it is decoded.
    const turned = frameOf((await fileFault(() => probeMedia(output, inputArgs))) ?? { format: '' });
    if (!turned) return damaged;
    const data = await readFile(output);
    if (data.length > limits.maxBytes) {
      return { status: 413, message: `Without its metadata the image is still ${megabytes(data.length)}, over the ${megabytes(limits.maxBytes)} limit; upload a smaller image.` };
    }
    return { data, contentType: type, ext: format.ext, ...turned };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function frameOf(probed: MediaProbe): { width: number; height: number } | null {
  const video = probed.video;
  return video && video.width > 0 && video.height > 0 ? { width: video.width, height: video.height } : null;
}

/**
 * null when ffmpeg or ffprobe failed on the file, or took over ENCODE_TIMEOUT_MS on one still (the
 * file's fault either way); a missing ffmpeg is rethrown.
 */
async function fileFault<T>(run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof FfmpegError || (isDailiesError(error) && error.code === 'cancelled')) return null;
    throw error;
  }
}
