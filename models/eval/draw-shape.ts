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

export function drawShapeFrame(s: DrawnShape): Uint8Array {
  const frame = new Uint8Array(s.width * s.height * 3);
  for (let y = 0; y < s.height; y++) {
    for (let x = 0; x < s.width; x++) {
      const dx = x + 0.5 - s.cx, dy = y + 0.5 - s.cy;
      const frac = (dy + s.r) / (2 * s.r); // 0 at a triangle's apex, 1 at its base
      const inside =
        s.shape === 'circle' ? dx * dx + dy * dy <= s.r * s.r
        : s.shape === 'square' ? Math.abs(dx) <= s.r && Math.abs(dy) <= s.r
        : frac >= 0 && frac <= 1 && Math.abs(dx) <= frac * s.r;
      frame.set(inside ? s.colour : s.background, (y * s.width + x) * 3);
    }
  }
  return frame;
}
