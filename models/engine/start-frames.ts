import { carryOn, measureMotion } from './carried-motion.ts';
import { readFrame, writeFrame, type VideoShape } from './video-tensor.ts';

/**
 * The clean video a continuation starts from below strength 1 (SDEdit): the known frames as they
 * are, and each new frame its nearest known frame in time (the last head frame going forward,
 * the first tail frame going backward) with what moved over that side's known frames carried on
 * at its speed (carried-motion.ts), so a move goes on into the new frames instead of stopping at
 * the join. Between a head and a tail, a linear blend of the two carried frames by position, so
 * a bridge starts as a cross-fade. For a latent model all of it happens in latents.
 */
export function startFrames(data: Float32Array, head: number, tail: number, shape: VideoShape, takes: number): Float32Array {
  const out = Float32Array.from(data);
  const first = shape.frames - tail;
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  for (let b = 0; b < takes; b++) {
    // Oldest first on each side: a tail is read backward, away from the new frames.
    const before = head > 0 ? measureMotion(range(0, head).map((f) => readFrame(data, shape, b, f)), shape) : undefined;
    const after = tail > 0 ? measureMotion(range(first, shape.frames).reverse().map((f) => readFrame(data, shape, b, f)), shape) : undefined;
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
