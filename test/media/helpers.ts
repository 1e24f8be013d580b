import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Clip } from '../../src/core/ports/video-model.ts';

export const SQUARE = [230, 30, 30] as const;
export const BACKGROUND = [20, 90, 160] as const;

/**
 * A red 8x8 square moving right one pixel per frame over a blue background. `noise` adds
 * per-frame grain so the encoder has something to spend bytes on (the size ladder needs it).
 */
export function movingSquare({ width = 32, height = 32, frames = 16, fps = 8, noise = 0 } = {}): Clip {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const out: Uint8Array[] = [];
  const top = Math.floor(height / 2) - 4;
  for (let i = 0; i < frames; i++) {
    const frame = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const inSquare = x >= i % width && x < (i % width) + 8 && y >= top && y < top + 8;
        const colour = inSquare ? SQUARE : BACKGROUND;
        for (let c = 0; c < 3; c++) {
          const grain = inSquare ? 0 : Math.round((rand() - 0.5) * 2 * noise);
          frame[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, colour[c]! + grain));
        }
      }
    }
    out.push(frame);
  }
  return { width, height, fps, frames: out };
}

export function pixel(clip: Clip, frame: number, x: number, y: number): number[] {
  const f = clip.frames[frame]!;
  const o = (y * clip.width + x) * 3;
  return [f[o]!, f[o + 1]!, f[o + 2]!];
}

export function near(actual: number[], expected: readonly number[], tolerance: number): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-media-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface ProbeStream {
  codec_name: string;
  pix_fmt?: string;
  width: number;
  height: number;
  nb_read_frames?: string;
  avg_frame_rate: string;
}

/** ffprobe called directly, so tests do not check the module with its own probe. */
export async function ffprobe(file: string): Promise<{ streams: ProbeStream[]; format: { format_name: string } }> {
  const { stdout } = await promisify(execFile)('ffprobe', [
    '-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', file,
  ]);
  return JSON.parse(stdout);
}

/** Writes RGB24 pixels to an image file with the ffmpeg CLI (format from the extension). */
export function writeImage(rgb: Uint8Array, width: number, height: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn('ffmpeg', [
      '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', 'pipe:0', '-frames:v', '1', '-y', file,
    ]);
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}`))));
    proc.stdin.end(rgb);
  });
}

/** Offsets of the top-level boxes of an MP4 file, by type. */
export async function mp4TopLevelBoxes(file: string): Promise<Map<string, number>> {
  const data = await readFile(file);
  const boxes = new Map<string, number>();
  let offset = 0;
  while (offset + 8 <= data.length) {
    let size = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    if (size === 1) size = Number(data.readBigUInt64BE(offset + 8));
    if (size === 0) size = data.length - offset;
    if (!boxes.has(type)) boxes.set(type, offset);
    if (size < 8) break;
    offset += size;
  }
  return boxes;
}

/** Chunk ids of a RIFF/WebP file (top level, plus the frames inside an animation). */
export async function webpChunks(file: string): Promise<string[]> {
  const data = await readFile(file);
  const ids: string[] = [];
  let offset = 12;
  while (offset + 8 <= data.length) {
    const id = data.toString('latin1', offset, offset + 4);
    const size = data.readUInt32LE(offset + 4);
    ids.push(id);
    offset += 8 + size + (size % 2);
  }
  return ids;
}

/** Distinct RGB colours in one frame. */
export function distinctColours(clip: Clip, frame: number): number {
  const f = clip.frames[frame]!;
  const seen = new Set<number>();
  for (let o = 0; o < f.length; o += 3) seen.add((f[o]! << 16) | (f[o + 1]! << 8) | f[o + 2]!);
  return seen.size;
}

/**
 * How far one frame strays outside the range its source colours span, in levels: the most any
 * channel of any pixel is below the lowest or above the highest value of `colours` in that
 * channel. A resampling filter with negative lobes (lanczos, bicubic) rings at a hard edge: a
 * bright rim on one side and a dark one on the other, both out of that range.
 */
export function outOfRange(clip: Clip, frame: number, colours: readonly (readonly number[])[]): number {
  const f = clip.frames[frame]!;
  let worst = 0;
  for (let c = 0; c < 3; c++) {
    const lo = Math.min(...colours.map((k) => k[c]!));
    const hi = Math.max(...colours.map((k) => k[c]!));
    for (let o = c; o < f.length; o += 3) worst = Math.max(worst, lo - f[o]!, f[o]! - hi);
  }
  return worst;
}

/**
 * Pixels of row `y` that are part-way across an edge from colour `from` to colour `to`: whose
 * channel `c` is more than 15% and less than 85% of the way. Nearest-neighbour upscaling steps
 * straight from one to the other (0 pixels); a smooth filter ramps over several.
 */
export function rampWidth(clip: Clip, frame: number, y: number, from: readonly number[], to: readonly number[], c = 0): number {
  const a = from[c]!;
  const b = to[c]!;
  let n = 0;
  for (let x = 0; x < clip.width; x++) {
    const t = (pixel(clip, frame, x, y)[c]! - a) / (b - a);
    if (t > 0.15 && t < 0.85) n++;
  }
  return n;
}
