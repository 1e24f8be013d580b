import { insideShape } from './draw-shape.ts';

/**
 * Reads which of the world's three shapes a clip's object is, from its per-frame object masks,
 * by fitting each shape to the outline as a whole.
 *
 * 1. Per frame, the object is the mask's largest 4-connected piece: a stray pixel at the border
 *    or a speck beside the object is not part of its outline.
 * 2. The frames read are those where that piece is whole (it does not touch the frame's edge)
 *    and at least half its largest size: a clipped object or a growing one's first few pixels
 *    says little about its shape. With no whole frame, the largest piece is read.
 * 3. Each read frame is fitted with a circle, a square and an upward triangle (drawn as
 *    draw-shape.ts and the training renderers draw them: a pixel is inside when its centre is),
 *    each at the centre and size that overlap the piece best (intersection over union). The
 *    frame votes for the best-fitting shape.
 * 4. The clip's shape is the one most frames vote for; a tie goes to the higher summed overlap.
 *
 * The reader this replaced took the fill ratio of the largest frame's bounding box (square
 * > 0.89 > circle > 0.64 > triangle). One pixel a row outside the body moves a bounding box, so
 * a square with a faint partial row along one side, or one corner pixel too many, read as a
 * circle however square the rest of it was; an outline fit spends that pixel only once.
 */

export const SHAPES = ['circle', 'square', 'triangle'] as const;
export type Shape = (typeof SHAPES)[number];

/** Fewer object pixels than this in the frame read says nothing of a shape. */
const MIN_PIXELS = 4;
/** Centre offsets (pixels) and size factors tried around each shape's moment estimate. */
const OFFSETS = [-1, -0.5, 0, 0.5, 1];
const SCALES = [0.8, 0.85, 0.9, 0.95, 1, 1.05, 1.1, 1.15, 1.2];

interface Piece {
  pixels: number[];
  touchesEdge: boolean;
}

/** Step 1: the mask's largest 4-connected piece. */
export function largestPiece(mask: Uint8Array, w: number, h: number): Piece {
  const seen = new Uint8Array(w * h);
  let best: Piece = { pixels: [], touchesEdge: false };
  for (let start = 0; start < w * h; start++) {
    if (!mask[start] || seen[start]) continue;
    const pixels = [start];
    seen[start] = 1;
    let touchesEdge = false;
    for (let k = 0; k < pixels.length; k++) {
      const i = pixels[k]!;
      const x = i % w, y = (i - x) / w;
      if (x === 0 || y === 0 || x === w - 1 || y === h - 1) touchesEdge = true;
      for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]] as const) {
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const j = ny * w + nx;
        if (mask[j] && !seen[j]) {
          seen[j] = 1;
          pixels.push(j);
        }
      }
    }
    if (pixels.length > best.pixels.length) best = { pixels, touchesEdge };
  }
  return best;
}

/** Step 3: the best intersection over union of `shape` with a piece, over centres and sizes near its moments. */
export function fitShape(shape: Shape, piece: number[], w: number, h: number): number {
  const set = new Uint8Array(w * h);
  let sx = 0, sy = 0;
  for (const i of piece) {
    set[i] = 1;
    sx += (i % w) + 0.5;
    sy += Math.floor(i / w) + 0.5;
  }
  const area = piece.length;
  const mx = sx / area, my = sy / area;
  // The half-size that gives the piece's area, and the centre that gives its centroid (a
  // triangle's centroid sits a third of its half-height below its box's centre).
  const r0 = shape === 'circle' ? Math.sqrt(area / Math.PI) : shape === 'square' ? Math.sqrt(area) / 2 : Math.sqrt(2 * area) / 2;
  const cy0 = shape === 'triangle' ? my - r0 / 3 : my;
  let best = 0;
  for (const scale of SCALES) {
    const r = r0 * scale;
    for (const oy of OFFSETS) {
      for (const ox of OFFSETS) {
        const cx = mx + ox, cy = cy0 + oy;
        const x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(w - 1, Math.ceil(cx + r));
        const y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(h - 1, Math.ceil(cy + r));
        let drawn = 0, both = 0;
        for (let y = y0; y <= y1; y++) {
          for (let x = x0; x <= x1; x++) {
            if (!insideShape(shape, x + 0.5, y + 0.5, cx, cy, r)) continue;
            drawn++;
            both += set[y * w + x]!;
          }
        }
        const iou = both / (area + drawn - both);
        if (iou > best) best = iou;
      }
    }
  }
  return best;
}

/** The clip's shape from its per-frame object masks (steps 1-4 above); null when no frame shows an object. */
export function readShape(masks: Uint8Array[], w: number, h: number): Shape | null {
  const pieces = masks.map((m) => largestPiece(m, w, h));
  const largest = Math.max(...pieces.map((p) => p.pixels.length));
  if (largest < MIN_PIXELS) return null;
  let read = pieces.filter((p) => !p.touchesEdge && p.pixels.length >= Math.max(MIN_PIXELS, largest / 2));
  if (read.length === 0) read = [pieces.find((p) => p.pixels.length === largest)!];
  const votes = new Map<Shape, { frames: number; overlap: number }>(SHAPES.map((s) => [s, { frames: 0, overlap: 0 }]));
  for (const piece of read) {
    const fits = SHAPES.map((s) => fitShape(s, piece.pixels, w, h));
    const winner = SHAPES[fits.indexOf(Math.max(...fits))]!;
    votes.get(winner)!.frames++;
    SHAPES.forEach((s, k) => (votes.get(s)!.overlap += fits[k]!));
  }
  return [...votes.entries()].sort((a, b) => b[1].frames - a[1].frames || b[1].overlap - a[1].overlap)[0]![0];
}
