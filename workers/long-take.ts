import path from 'node:path';
import type { TakeResult } from '../src/core/ports/job-queue.ts';
import { sampledSource, type FrameSource } from '../src/media/index.ts';
import type { RenderContext } from './render-context.ts';
import { gateTake, type GatedTake } from './frame-gate.ts';
import { signIfCredited, videoBudget } from './final-signer.ts';

/**
 * A long take's files: the whole video as one MP4, streamed to the encoder from the store at the
 * model's frame rate, and an animated preview.
 *
 * The preview of a long take is a time-lapse: at most PREVIEW_FRAMES frames spread evenly over the
 * whole video (every 10th frame of a minute at 8 fps), played at the video's own frame rate. It
 * shows what happens from start to end — the continued source, each segment's motion, a film's
 * shots in order — in a loop of a few seconds that stays far inside the 2 MiB preview budget,
 * where all 480 frames would be a 60-second animated image that chat clients load slowly and the
 * size ladder would shrink to a blur. Its first frame is the video's first frame, which is what
 * "vary" reads from a take's preview.
 */
export const PREVIEW_FRAMES = 48;

/** Checks the take's frames (workers/frame-gate.ts), then stores it unless the check flagged it. */
export function gateLongTake(ctx: RenderContext, index: number, seed: number, video: FrameSource): Promise<GatedTake> {
  return gateTake(ctx.frameCheck, index, seed, video, ctx.signal, () => storeLongTake(ctx, index, seed, video));
}

async function storeLongTake(ctx: RenderContext, index: number, seed: number, video: FrameSource): Promise<TakeResult> {
  const { payload, model, media, store, signal } = ctx;
  const size = model.defaults.outputSize;
  const base = `renders/${payload.jobId}/take-${index}`;
  // Both at once: each reads the store on its own, and two ffmpeg processes fill two cores better than one.
  const maxBytes = videoBudget(ctx.signer, payload.request);
  const [mp4, preview] = await Promise.all([
    media.encodeVideo(video, {
      path: path.join(ctx.tmp, `take-${index}.mp4`),
      size,
      quality: payload.request.quality === 'final' ? 'finalize' : 'standard',
      ...(maxBytes !== undefined ? { maxBytes } : {}),
      // The frame rate stays the model's: interpolating a minute to 24 fps costs more than the render.
      smoothFps: false,
      signal,
    }),
    media.encodePreview(sampledSource(video, PREVIEW_FRAMES), { path: path.join(ctx.tmp, `take-${index}-preview`), size, signal }),
  ]);
  // Signing is the last step: any later re-encode would drop the credentials.
  const stored = await signIfCredited(ctx.signer, payload.request, mp4, signal);
  return {
    index,
    seed,
    ...(stored.signed ? { signed: true } : {}),
    video: await store.putFile(`${base}.${extension(mp4.contentType)}`, stored.path, mp4.contentType),
    preview: await store.putFile(`${base}-preview.${extension(preview.contentType)}`, preview.path, preview.contentType),
    frames: video.frameCount,
    fps: video.fps,
    model: model.name,
  };
}

export function extension(contentType: string): string {
  return { 'video/mp4': 'mp4', 'image/webp': 'webp', 'image/gif': 'gif' }[contentType] ?? 'bin';
}
