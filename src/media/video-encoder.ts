import type { VideoInput } from './frame-source.ts';
import { encodePreview, encodeTake, encodeVideo, reencodeToFit, type EncodeOptions, type EncodeResult, type PreviewOptions, type TakeEncodeOptions } from './encode.ts';

/** What workers and chat adapters need from an encoder; they take this, not the ffmpeg functions. */
export interface VideoEncoder {
  encodeVideo(input: VideoInput, opts: EncodeOptions): Promise<EncodeResult>;
  encodePreview(input: VideoInput, opts: PreviewOptions): Promise<EncodeResult>;
  /** Both of a take's files from the same frames in one ffmpeg run. */
  encodeTake(input: VideoInput, opts: TakeEncodeOptions): Promise<{ video: EncodeResult; preview: EncodeResult }>;
  reencodeToFit(inputPath: string, maxBytes: number, outPath: string, opts?: { signal?: AbortSignal }): Promise<EncodeResult>;
}

export class FfmpegEncoder implements VideoEncoder {
  encodeVideo(input: VideoInput, opts: EncodeOptions): Promise<EncodeResult> {
    return encodeVideo(input, opts);
  }
  encodePreview(input: VideoInput, opts: PreviewOptions): Promise<EncodeResult> {
    return encodePreview(input, opts);
  }
  encodeTake(input: VideoInput, opts: TakeEncodeOptions): Promise<{ video: EncodeResult; preview: EncodeResult }> {
    return encodeTake(input, opts);
  }
  reencodeToFit(inputPath: string, maxBytes: number, outPath: string, opts?: { signal?: AbortSignal }): Promise<EncodeResult> {
    return reencodeToFit(inputPath, maxBytes, outPath, opts);
  }
}
