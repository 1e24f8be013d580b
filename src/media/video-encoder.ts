import type { Clip } from '../core/ports/video-model.ts';
import { encodePreview, encodeVideo, reencodeToFit, type EncodeOptions, type EncodeResult, type PreviewOptions } from './encode.ts';

/** What workers and chat adapters need from an encoder; they take this, not the ffmpeg functions. */
export interface VideoEncoder {
  encodeVideo(clip: Clip, opts: EncodeOptions): Promise<EncodeResult>;
  encodePreview(clip: Clip, opts: PreviewOptions): Promise<EncodeResult>;
  reencodeToFit(inputPath: string, maxBytes: number, outPath: string, opts?: { signal?: AbortSignal }): Promise<EncodeResult>;
}

export class FfmpegEncoder implements VideoEncoder {
  encodeVideo(clip: Clip, opts: EncodeOptions): Promise<EncodeResult> {
    return encodeVideo(clip, opts);
  }
  encodePreview(clip: Clip, opts: PreviewOptions): Promise<EncodeResult> {
    return encodePreview(clip, opts);
  }
  reencodeToFit(inputPath: string, maxBytes: number, outPath: string, opts?: { signal?: AbortSignal }): Promise<EncodeResult> {
    return reencodeToFit(inputPath, maxBytes, outPath, opts);
  }
}
