export {
  encodeVideo,
  encodePreview,
  encodeTake,
  reencodeToFit,
  DEFAULT_SIZE,
  DEFAULT_VIDEO_MAX_BYTES,
  DEFAULT_PREVIEW_MAX_BYTES,
  LONG_VIDEO_SECONDS,
  type EncodeQuality,
  type EncodeOptions,
  type PreviewOptions,
  type TakeEncodeOptions,
  type EncodeResult,
} from './encode.ts';
export { decodeImage, decodeClip, resizeClip, DEFAULT_MAX_PIXELS, type DecodeOptions, type DecodeClipOptions, type ResizeOptions } from './decode.ts';
export { clipSource, isFrameSource, sampledSource, toFrameSource, type FrameSource, type VideoInput } from './frame-source.ts';
export { ensureFfmpeg, type FfmpegTools } from './ffmpeg.ts';
export { SIZE_LADDER, type Rung } from './size-ladder.ts';
export { FfmpegEncoder, type VideoEncoder } from './video-encoder.ts';
