import type { Clip } from '../core/ports/video-model.ts';
import { DailiesError } from '../errors.ts';

/**
 * Rejects clips ffmpeg would misread. A frame of the wrong length would not fail in ffmpeg:
 * rawvideo just reslices the byte stream, so every later frame would come out sheared.
 */
export function assertClip(clip: Clip): void {
  const { width, height, fps, frames } = clip;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new DailiesError('internal', `The clip has an invalid size of ${width}x${height}; this is a bug in whatever produced it.`);
  }
  if (!(fps > 0) || !Number.isFinite(fps)) {
    throw new DailiesError('internal', `The clip has an invalid frame rate of ${fps}; this is a bug in whatever produced it.`);
  }
  if (frames.length === 0) {
    throw new DailiesError('bad_input', 'The clip has no frames; render at least one frame and try again.');
  }
  const expected = width * height * 3;
  frames.forEach((frame, i) => {
    if (frame.length !== expected) {
      throw new DailiesError(
        'internal',
        `Frame ${i} of the clip has ${frame.length} bytes where a ${width}x${height} RGB frame needs ${expected}; this is a bug in whatever produced it.`,
      );
    }
  });
}

/** Splits ffmpeg's rawvideo output into frames of `width`x`height` RGB24. */
export function splitFrames(data: Buffer, width: number, height: number): Uint8Array[] {
  const size = width * height * 3;
  if (data.length % size !== 0) {
    throw new DailiesError(
      'internal',
      `ffmpeg returned ${data.length} bytes, not a whole number of ${width}x${height} RGB frames; this is a bug in the media module.`,
    );
  }
  const frames: Uint8Array[] = [];
  // Copies rather than views so one retained frame does not pin the whole decode buffer.
  for (let offset = 0; offset < data.length; offset += size) frames.push(new Uint8Array(data.subarray(offset, offset + size)));
  return frames;
}
