/*
 * Flat video batches in the denoiser's own axis order. Latents stay in that order for the whole
 * run (noise is drawn in it too), so the only reordering happens when single frames are read out
 * for the VAE or a preview, or written in from an image.
 */

export type Layout = 'BCFHW' | 'BFCHW';

export interface VideoShape {
  channels: number;
  frames: number;
  height: number;
  width: number;
  layout: Layout;
}

/** Values per take. */
export function takeSize(s: VideoShape): number {
  return s.channels * s.frames * s.height * s.width;
}

/** Dims of a `rows`-row batch in the shape's layout. */
export function batchDims(s: VideoShape, rows: number): number[] {
  return s.layout === 'BCFHW' ? [rows, s.channels, s.frames, s.height, s.width] : [rows, s.frames, s.channels, s.height, s.width];
}

function planeOffset(s: VideoShape, take: number, channel: number, frame: number): number {
  const plane = s.height * s.width;
  return s.layout === 'BCFHW'
    ? ((take * s.channels + channel) * s.frames + frame) * plane
    : ((take * s.frames + frame) * s.channels + channel) * plane;
}

/** Frame `frame` of take `take` as a CHW array. */
export function readFrame(data: Float32Array, s: VideoShape, take: number, frame: number): Float32Array {
  const plane = s.height * s.width;
  const out = new Float32Array(s.channels * plane);
  for (let c = 0; c < s.channels; c++) {
    const at = planeOffset(s, take, c, frame);
    out.set(data.subarray(at, at + plane), c * plane);
  }
  return out;
}

/** Writes a CHW frame into take `take` at `frame`. */
export function writeFrame(data: Float32Array, s: VideoShape, take: number, frame: number, chw: Float32Array): void {
  const plane = s.height * s.width;
  for (let c = 0; c < s.channels; c++) data.set(chw.subarray(c * plane, (c + 1) * plane), planeOffset(s, take, c, frame));
}

/**
 * Copies frames [from, to) of every take from `source` into `target` (two batches of the same
 * shape): how known frames are put back into the running sample, each take with its own content.
 */
export function copyFrames(target: Float32Array, source: Float32Array, s: VideoShape, takes: number, from: number, to: number): void {
  const plane = s.height * s.width;
  for (let b = 0; b < takes; b++) {
    for (let f = from; f < to; f++) {
      for (let c = 0; c < s.channels; c++) {
        const at = planeOffset(s, b, c, f);
        target.set(source.subarray(at, at + plane), at);
      }
    }
  }
}

/** `times` copies of `block`, back to back. */
export function tile(block: Float32Array, times: number): Float32Array {
  const out = new Float32Array(block.length * times);
  for (let i = 0; i < times; i++) out.set(block, i * block.length);
  return out;
}
