import type { VideoInput } from './frame-source.ts';
import { encodePreview, encodeVideo, reencodeToFit, type EncodeOptions, type EncodeResult, type PreviewOptions } from './encode.ts';

/** What workers and chat adapters need from an encoder; they take this, not the ffmpeg functions. */
export interface VideoEncoder {
  encodeVideo(input: VideoInput, opts: EncodeOptions): Promise<EncodeResult>;
  encodePreview(input: VideoInput, opts: PreviewOptions): Promise<EncodeResult>;
  reencodeToFit(inputPath: string, maxBytes: number, outPath: string, opts?: { signal?: AbortSignal }): Promise<EncodeResult>;
}

export class FfmpegEncoder implements VideoEncoder {
  encodeVideo(input: VideoInput, opts: EncodeOptions): Promise<EncodeResult> {
    return encodeVideo(input, opts);
  }
  encodePreview(input: VideoInput, opts: PreviewOptions): Promise<EncodeResult> {
    return encodePreview(input, opts);
  }
  reencodeToFit(inputPath: string, maxBytes: number, outPath: string, opts?: { signal?: AbortSignal }): Promise<EncodeResult> {
    return reencodeToFit(inputPath, maxBytes, outPath, opts);
  }
}
