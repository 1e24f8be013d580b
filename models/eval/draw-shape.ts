/**
 * Draws one frame of a flat shape on a flat background, independently of any model's training
 * renderer: what the eval's readers are tested on, and the known frames the edge-exit probe
 * hands a model. A pixel is the object's when its centre is inside the shape (no anti-aliasing).
 */

export interface DrawnShape {
  shape: string;
  colour: readonly [number, number, number];
  background: readonly [number, number, number];
  /** The shape's centre and half-size in pixels; a triangle points up with its base 2r wide. */
  cx: number;
  cy: number;
  r: number;
  width: number;
  height: number;
}

/** Whether the pixel whose centre is (px, py) lies inside `shape` centred at (cx, cy) with half-size r. */
export function insideShape(shape: string, px: number, py: number, cx: number, cy: number, r: number): boolean {
  const dx = px - cx, dy = py - cy;
  if (shape === 'circle') return dx * dx + dy * dy <= r * r;
  if (shape === 'square') return Math.abs(dx) <= r && Math.abs(dy) <= r;
  const frac = (dy + r) / (2 * r); // 0 at a triangle's apex, 1 at its base
  return frac >= 0 && frac <= 1 && Math.abs(dx) <= frac * r;
}

export function drawShapeFrame(s: DrawnShape): Uint8Array {
  const frame = new Uint8Array(s.width * s.height * 3);
  for (let y = 0; y < s.height; y++) {
    for (let x = 0; x < s.width; x++) {
      const inside = insideShape(s.shape, x + 0.5, y + 0.5, s.cx, s.cy, s.r);
      frame.set(inside ? s.colour : s.background, (y * s.width + x) * 3);
    }
  }
  return frame;
}
