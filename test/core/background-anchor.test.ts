import { describe, expect, it } from 'vitest';
import { anchorBackground, chainAnchor, flatBackground } from '../../src/core/background-anchor.ts';

const W = 16;
const H = 12;

/** A frame of one colour, with `paint` changing pixels by (x, y). */
function frame(colour: readonly number[], paint?: (x: number, y: number) => readonly number[] | undefined): Uint8Array {
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out.set(paint?.(x, y) ?? colour, (y * W + x) * 3);
  return out;
}
const at = (f: Uint8Array, x: number, y: number) => Array.from(f.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
const square = (x: number, y: number) => (x >= 5 && x < 9 && y >= 4 && y < 8 ? [220, 30, 30] : undefined);

describe('background anchor', () => {
  it('reads a flat background through noise and an object, and no background in a scene', () => {
    const noisy = frame([10, 12, 40], (x, y) => ((x * 7 + y * 3) % 5 === 0 ? [30, 25, 60] : square(x, y)));
    expect(flatBackground(noisy, W, H)).toEqual([10, 12, 40]);
    // A gradient across the frame (a scene, or the light) is not one colour.
    expect(flatBackground(frame([0, 0, 0], (x) => [x * 16, 100, 255 - x * 16]), W, H)).toBeUndefined();
  });

  it('moves each frame so its background is the anchor, the object by as much, within 0-255', () => {
    const drifted = [frame([0, 0, 0], square), frame([8, 10, 30], square), frame([4, 250, 2], square)];
    const out = anchorBackground(drifted, W, H, [2, 3, 4]);
    expect(out.map((f) => at(f, 0, 0))).toEqual([[2, 3, 4], [2, 3, 4], [2, 3, 4]]);
    expect(at(out[1]!, 6, 5)).toEqual([220 - 6, 30 - 7, 30 - 26]);
    expect(at(out[2]!, 6, 5)).toEqual([218, 0, 32]);
    // Already at the anchor: the same frame back.
    expect(anchorBackground([drifted[0]!], W, H, [0, 0, 0])[0]).toBe(drifted[0]);
  });

  it('gives a frame whose border it cannot read the move of the frame before it', () => {
    const covered = frame([200, 30, 30], (x, y) => (x > 0 && y > 0 && x < W - 1 && y < H - 1 ? [20, 20, 20] : x < 4 ? [200, 30, 30] : [x * 16, 100, 255 - x * 16]));
    const out = anchorBackground([frame([20, 20, 20]), covered], W, H, [10, 10, 10]);
    expect(at(out[1]!, 5, 5)).toEqual([10, 10, 10]);
    // The first frame unreadable too: it stays as it is.
    expect(anchorBackground([covered], W, H, [10, 10, 10])[0]).toBe(covered);
  });

  it('keeps the background of the clip a chain continues or leads into, else its own first frame; none for a bridge', () => {
    const [blue, black, grey] = [frame([0, 0, 200]), frame([0, 0, 0]), frame([90, 90, 90])];
    expect(chainAnchor({ before: blue, first: grey }, W, H)).toEqual([0, 0, 200]);
    expect(chainAnchor({ after: black, first: grey }, W, H)).toEqual([0, 0, 0]);
    expect(chainAnchor({ first: grey }, W, H)).toEqual([90, 90, 90]);
    expect(chainAnchor({ before: blue, after: black }, W, H)).toBeUndefined();
    expect(chainAnchor({ first: frame([0, 0, 0], (x) => [x * 16, 100, 255 - x * 16]) }, W, H)).toBeUndefined();
  });
});
