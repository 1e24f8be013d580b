import type { Clip } from '../core/ports/video-model.ts';
import { DailiesError } from '../errors.ts';
import { assertClip } from './clip-check.ts';

/**
 * Video the encoders pull frame by frame instead of holding whole: a minute of chained segments
 * read back from the artifact store one piece at a time, so an encode's memory does not grow with
 * the video's length. ffmpeg's stdin is fed with back-pressure (ffmpeg.ts), so no more than a pipe's
 * worth of frames is in flight.
 */
export interface FrameSource {
  width: number;
  height: number;
  fps: number;
  /** How many frames `frames()` yields; a pass that yields another number fails the encode. */
  frameCount: number;
  /**
   * One pass over the frames in order, RGB24 of width*height*3 bytes each. Called once per
   * encode attempt: the size ladder may encode the same video more than once.
   */
  frames(): AsyncIterable<Uint8Array>;
}

/** What the encoders take: a clip in memory, or a frame source. */
export type VideoInput = Clip | FrameSource;

export function isFrameSource(input: VideoInput): input is FrameSource {
  return typeof (input as FrameSource).frames === 'function';
}

/** A clip as a frame source. */
export function clipSource(clip: Clip): FrameSource {
  assertClip(clip);
  return {
    width: clip.width,
    height: clip.height,
    fps: clip.fps,
    frameCount: clip.frames.length,
    async *frames() {
      yield* clip.frames;
    },
  };
}

/** Any input as a checked frame source: a clip is checked whole, a source frame by frame as it is read. */
export function toFrameSource(input: VideoInput): FrameSource {
  if (!isFrameSource(input)) return clipSource(input);
  const { width, height, fps, frameCount } = input;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || !(fps > 0) || !Number.isFinite(fps)) {
    throw new DailiesError('internal', `The frame source is ${width}x${height} at ${fps} fps; this is a bug in whatever produced it.`);
  }
  if (!Number.isInteger(frameCount) || frameCount < 1) {
    throw new DailiesError('bad_input', 'The video has no frames; render at least one frame and try again.');
  }
  return { width, height, fps, frameCount, frames: () => checked(input) };
}

/**
 * Every `stride`-th frame, at most `maxFrames` of them spread over the whole source: a preview of a
 * long video that still shows all of it, played faster (the frame rate is kept).
 */
export function sampledSource(input: VideoInput, maxFrames: number): FrameSource {
  const source = toFrameSource(input);
  if (source.frameCount <= maxFrames) return source;
  const stride = Math.ceil(source.frameCount / maxFrames);
  return {
    ...source,
    frameCount: Math.ceil(source.frameCount / stride),
    async *frames() {
      let i = 0;
      for await (const frame of source.frames()) {
        if (i++ % stride === 0) yield frame;
      }
    },
  };
}

async function* checked(source: FrameSource): AsyncIterable<Uint8Array> {
  const expected = source.width * source.height * 3;
  let n = 0;
  for await (const frame of source.frames()) {
    if (frame.length !== expected) {
      throw new DailiesError('internal', `Frame ${n} of the video has ${frame.length} bytes where a ${source.width}x${source.height} RGB frame needs ${expected}; this is a bug in whatever produced it.`);
    }
    if (++n > source.frameCount) break;
    yield frame;
  }
  if (n !== source.frameCount) {
    throw new DailiesError('internal', `The video gave ${n} frames where ${source.frameCount} were announced; this is a bug in whatever produced it.`);
  }
}
