import { describe, expect, it } from 'vitest';
import { drawShapeFrame } from '../../models/eval/draw-shape.ts';
import { fitShape, largestPiece, readShape, SHAPES } from '../../models/eval/read-shape.ts';

const W = 32;

/** A drawn shape's mask (draw-shape.ts, white on black). */
function drawnMask(shape: string, cx: number, cy: number, r: number): Uint8Array {
  const frame = drawShapeFrame({ shape, colour: [255, 255, 255], background: [0, 0, 0], cx, cy, r, width: W, height: W });
  return Uint8Array.from({ length: W * W }, (_, i) => (frame[i * 3]! > 128 ? 1 : 0));
}

/** Park-Miller: the same defects on every run. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** Pixels on the outline's outer (background) or inner (object) side, 4-neighbourhood. */
function outlineSide(mask: Uint8Array, outer: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < W * W; i++) {
    if (Boolean(mask[i]) === outer) continue;
    const x = i % W, y = (i - x) / W;
    const differs = [[1, 0], [-1, 0], [0, 1], [0, -1]].some(([dx, dy]) => {
      const nx = x + dx!, ny = y + dy!;
      return nx >= 0 && ny >= 0 && nx < W && ny < W && Boolean(mask[ny * W + nx]) !== Boolean(mask[i]);
    });
    if (differs) out.push(i);
  }
  return out;
}

/** Every shape at half-sizes 3-8.5 px and random sub-pixel centres, passed through `defect`. */
function readAll(defect: (mask: Uint8Array, next: () => number) => void): Record<string, number> {
  const next = rng(17);
  const wrong: Record<string, number> = {};
  for (const shape of SHAPES) {
    wrong[shape] = 0;
    for (let r = 3; r <= 8.5; r += 0.25) {
      for (let k = 0; k < 4; k++) {
        const mask = drawnMask(shape, 10 + next() * 12, 10 + next() * 12, r);
        defect(mask, next);
        if (readShape([mask], W, W) !== shape) wrong[shape]++;
      }
    }
  }
  return wrong; // of 92 per shape
}

describe('readShape', () => {
  it('reads every drawn shape, at every size from 6 to 17 px and any sub-pixel place', () => {
    expect(readAll(() => {})).toEqual({ circle: 0, square: 0, triangle: 0 });
  });

  it('reads a ragged outline as the shape it outlines (15% of the pixels either side of it flipped)', () => {
    // The defect a small denoiser draws: sides that wander by a pixel. A bounding box's fill
    // ratio read 1 of 92 such squares as squares; the fit reads all but a few small ones.
    const wrong = readAll((mask, next) => {
      for (const i of outlineSide(mask, true)) if (next() < 0.15) mask[i] = 1;
      for (const i of outlineSide(mask, false)) if (next() < 0.15) mask[i] = 0;
    });
    for (const shape of SHAPES) expect(wrong[shape], shape).toBeLessThanOrEqual(4);
  });

  it('is not moved by one pixel outside the outline or by specks at the frame border', () => {
    const wrong = readAll((mask, next) => {
      const outside = outlineSide(mask, true);
      mask[outside[Math.floor(next() * outside.length)]!] = 1;
      mask[0] = 1;
      mask[5 * W] = 1;
    });
    // At 6 px across a drawn circle is nearly a square already; one pixel may tip it.
    for (const shape of SHAPES) expect(wrong[shape], shape).toBeLessThanOrEqual(1);
  });

  it('votes over the frames where the object is whole, not one clipped at the edge', () => {
    // A square leaving by the right edge: its last frames show a strip, which fits no square.
    const masks = [16, 20, 24, 28, 31, 34].map((cx) => drawnMask('square', cx, 16, 5));
    expect(largestPiece(masks[5]!, W, W).touchesEdge).toBe(true);
    expect(readShape(masks, W, W)).toBe('square');
    expect(readShape(masks.slice(4), W, W)).toBe('square'); // no whole frame: the largest piece
  });

  it('leaves out the first pixels of a growing object, and reads nothing when there is no object', () => {
    const growing = [1.2, 1.5, 4, 6, 8].map((r) => drawnMask('triangle', 16, 16, r));
    expect(readShape(growing, W, W)).toBe('triangle');
    expect(readShape([new Uint8Array(W * W)], W, W)).toBeNull();
  });

  it('scores a shape by how well it overlaps the outline: 1 for the drawn shape, less for the others', () => {
    const square = largestPiece(drawnMask('square', 15.5, 16.2, 6), W, W).pixels;
    expect(fitShape('square', square, W, W)).toBe(1);
    expect(fitShape('circle', square, W, W)).toBeLessThan(0.85);
    expect(fitShape('triangle', square, W, W)).toBeLessThan(0.75);
  });
});
