import type { Clip } from '../src/core/ports/video-model.ts';
import { decodeClip, decodeImage, FfmpegEncoder, type DecodeClipOptions, type DecodeOptions, type VideoEncoder } from '../src/media/index.ts';

/** What the render processor needs from src/media; injected so tests can count or fail calls. */
export interface RenderMedia extends Pick<VideoEncoder, 'encodeVideo' | 'encodePreview' | 'encodeTake'> {
  decodeImage(path: string, opts?: DecodeOptions): Promise<Clip>;
  decodeClip(path: string, opts?: DecodeClipOptions): Promise<Clip>;
}

/** The real media: ffmpeg encoders and decoders with their size budgets. */
export function ffmpegRenderMedia(): RenderMedia {
  const encoder = new FfmpegEncoder();
  return {
    encodeVideo: (clip, opts) => encoder.encodeVideo(clip, opts),
    encodePreview: (clip, opts) => encoder.encodePreview(clip, opts),
    encodeTake: (clip, opts) => encoder.encodeTake(clip, opts),
    decodeImage: (path, opts) => decodeImage(path, opts),
    decodeClip: (path, opts) => decodeClip(path, opts),
  };
}
