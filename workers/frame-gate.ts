import type { CheckedFrame, FrameCheck, FrameVerdict } from '../src/core/ports/frame-check.ts';
import type { TakeResult, WithheldTake } from '../src/core/ports/job-queue.ts';
import type { Clip } from '../src/core/ports/video-model.ts';
import { sampledFrameIndices } from '../src/safety/frame-sample.ts';
import { isFrameSource, type VideoInput } from '../src/media/index.ts';

/**
 * The frame check's place in a render: between the model's frames and the store. A take is read
 * before any of its files is written, so a flagged take never exists where a chat could fetch it.
 */

/** A take after the frame check: stored, or withheld with the verdict. */
export type GatedTake = { stored: TakeResult } | { withheld: WithheldTake };

/** Checks a final's sampled frames (every 4th, the first and the last); null when no check runs. */
export async function checkFinal(check: FrameCheck | null, video: VideoInput, signal: AbortSignal): Promise<FrameVerdict | null> {
  if (!check) return null;
  if (!isFrameSource(video)) return check.check(sampledFrameIndices(video.frames.length).map((i) => frameOf(video, video.frames[i]!)), signal);
  // A long take streams from the store: keep only the sampled frames of one pass.
  const wanted = new Set(sampledFrameIndices(video.frameCount));
  const frames: CheckedFrame[] = [];
  let i = 0;
  for await (const rgb of video.frames()) {
    signal.throwIfAborted();
    if (wanted.has(i++)) frames.push({ width: video.width, height: video.height, rgb });
  }
  return check.check(frames, signal);
}

/** Checks every frame of a preview clip. */
export async function checkPreview(check: FrameCheck | null, clip: Clip, signal: AbortSignal): Promise<FrameVerdict | null> {
  return check ? check.check(clip.frames.map((rgb) => frameOf(clip, rgb)), signal) : null;
}

/** Stores the take unless the check flags it. */
export async function gateTake(check: FrameCheck | null, index: number, seed: number, video: VideoInput, signal: AbortSignal, store: () => Promise<TakeResult>): Promise<GatedTake> {
  const verdict = await checkFinal(check, video, signal);
  if (verdict?.flagged) return { withheld: { index, seed, finding: verdict.flagged, scores: verdict.scores, frames: verdict.frames } };
  return { stored: await store() };
}

/** The result fields of a set of gated takes: `withheld` only when some take was. */
export function gatedResult(gated: readonly GatedTake[]): { takes: TakeResult[]; withheld?: WithheldTake[] } {
  const takes = gated.flatMap((g) => ('stored' in g ? [g.stored] : []));
  const withheld = gated.flatMap((g) => ('withheld' in g ? [g.withheld] : []));
  return withheld.length > 0 ? { takes, withheld } : { takes };
}

function frameOf(clip: { width: number; height: number }, rgb: Uint8Array): CheckedFrame {
  return { width: clip.width, height: clip.height, rgb };
}
