import { carryOn, measureMotion } from './carried-motion.ts';
import { readFrame, writeFrame, type VideoShape } from './video-tensor.ts';

/**
 * Frames beyond the known ones, per take (index b: take b's), in the denoiser's space (CHW):
 * `earlier` just before the first head frame, `later` just after the last tail frame, both in
 * time order. Read only to measure what moves, so that an object that left the frame before the
 * known frames (or was clipped by an edge in all of them) is still carried on.
 */
export interface Lookback {
  earlier: Float32Array[][];
  later: Float32Array[][];
}

/**
 * The clean video a continuation starts from below strength 1 (SDEdit): the known frames as they
 * are, and each new frame its nearest known frame in time (the last head frame going forward,
 * the first tail frame going backward) with what moved over that side's known frames (and its
 * lookback) carried on at its speed (carried-motion.ts), so a move goes on into the new frames
 * instead of stopping at the join. Between a head and a tail, a linear blend of the two carried
 * frames by position, so a bridge starts as a cross-fade. For a latent model all of it happens in
 * latents.
 */
export function startFrames(data: Float32Array, head: number, tail: number, shape: VideoShape, takes: number, lookback?: Lookback): Float32Array {
  const out = Float32Array.from(data);
  const first = shape.frames - tail;
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  for (let b = 0; b < takes; b++) {
    const frame = (f: number) => readFrame(data, shape, b, f);
    // Oldest first on each side, the frame nearest the new ones last: going forward the lookback
    // then the head; going backward (a tail read away from the new frames) the farthest lookback
    // frame first, down to the first tail frame.
    const before = head > 0 ? measureMotion([...(lookback?.earlier[b] ?? []), ...range(0, head).map(frame)], shape) : undefined;
    const after = tail > 0 ? measureMotion([...(lookback?.later[b] ?? []).toReversed(), ...range(first, shape.frames).reverse().map(frame)], shape) : undefined;
    for (let f = head; f < first; f++) {
      const forward = before && carryOn(before, f - (head - 1));
      const backward = after && carryOn(after, first - f);
      if (!forward || !backward) {
        writeFrame(out, shape, b, f, (forward ?? backward)!);
        continue;
      }
      const w = (f - (head - 1)) / (first - (head - 1));
      writeFrame(out, shape, b, f, forward.map((v, k) => (1 - w) * v + w * backward[k]!));
    }
  }
  return out;
}
