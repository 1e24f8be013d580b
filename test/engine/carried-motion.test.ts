import { describe, expect, it } from 'vitest';
import { carryOn, measureMotion, type FrameSize } from '../../models/engine/carried-motion.ts';

// Frames in the denoiser's CHW layout, values in [-1, 1] as the pixel models see them.
const SIZE: FrameSize = { channels: 3, width: 32, height: 32 };
const BACKGROUND = [-1, -1, 0.6];
const RED = [1, -1, -1];

interface Box {
  x: number;
  y: number;
  half: number;
  colour: number[];
}

/** A frame of `boxes` (anti-aliased squares, centre and half-size in px) on the background. */
function frame(boxes: Box[], size: FrameSize = SIZE, background = BACKGROUND): Float32Array {
  const { width: w, height: h, channels } = size;
  const out = new Float32Array(channels * w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const pixel = [...background];
      for (const b of boxes) {
        // Coverage of the pixel [x, x+1] x [y, y+1] by the box.
        const cover = (lo: number, hi: number, p: number) => Math.max(0, Math.min(hi, p + 1) - Math.max(lo, p));
        const a = cover(b.x - b.half, b.x + b.half, x) * cover(b.y - b.half, b.y + b.half, y);
        for (let c = 0; c < channels; c++) pixel[c] = pixel[c]! * (1 - a) + a * b.colour[c]!;
      }
      for (let c = 0; c < channels; c++) out[c * w * h + y * w + x] = pixel[c]!;
    }
  }
  return out;
}

/** Centre and area of what is far from the background in a frame. */
function objectAt(f: Float32Array, size: FrameSize = SIZE, background = BACKGROUND): { x: number; y: number; area: number } {
  const { width: w, height: h, channels } = size;
  let [sx, sy, n] = [0, 0, 0];
  for (let p = 0; p < w * h; p++) {
    let d = 0;
    for (let c = 0; c < channels; c++) d += (f[c * w * h + p]! - background[c]!) ** 2;
    if (Math.sqrt(d) > 0.5) {
      sx += (p % w) + 0.5;
      sy += Math.floor(p / w) + 0.5;
      n++;
    }
  }
  return { x: sx / n, y: sy / n, area: n };
}

const moving = (from: { x: number; y: number }, speed: { x: number; y: number }, count: number, half = 4, colour = RED): Float32Array[] =>
  Array.from({ length: count }, (_, f) => frame([{ x: from.x + speed.x * f, y: from.y + speed.y * f, half, colour }]));

describe('carried motion', () => {
  it('measures a move over the known frames and carries the object on at that speed', () => {
    const known = moving({ x: 8, y: 10 }, { x: 1.5, y: 0.75 }, 4);
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(1);
    expect(motion.layers[0]!.velocity.x).toBeCloseTo(1.5, 0);
    expect(motion.layers[0]!.velocity.y).toBeCloseTo(0.75, 0);
    const last = objectAt(known[3]!);
    for (const d of [1, 4, 8]) {
      const at = objectAt(carryOn(motion, d));
      expect(Math.abs(at.x - (last.x + 1.5 * d))).toBeLessThan(0.6);
      expect(Math.abs(at.y - (last.y + 0.75 * d))).toBeLessThan(0.6);
      // The whole object moves: same size, nothing left behind where it was.
      expect(Math.abs(at.area - last.area)).toBeLessThanOrEqual(0.15 * last.area);
    }
  });

  it('takes a move nearly along one axis as along it: a model\'s drift across its move is not carried on', () => {
    const drifting = measureMotion(moving({ x: 8, y: 12 }, { x: 1.5, y: 0.4 }, 4), SIZE);
    expect(drifting.layers[0]!.velocity.x).toBeCloseTo(1.5, 0);
    expect(drifting.layers[0]!.velocity.y).toBe(0);
    const falling = measureMotion(moving({ x: 12, y: 6 }, { x: -0.3, y: 1.5 }, 4), SIZE);
    expect(falling.layers[0]!.velocity.x).toBe(0);
    expect(falling.layers[0]!.velocity.y).toBeCloseTo(1.5, 0);
  });

  it('reads a slow move of an object drawn a little differently in every frame, given frames enough', () => {
    // Half a px a frame, the square's side jumping by 2 px from frame to frame, as a model draws.
    const wobbling = Array.from({ length: 12 }, (_, f) => frame([{ x: 9 + 0.5 * f, y: 14, half: f % 2 ? 5 : 4, colour: RED }]));
    const long = measureMotion(wobbling, SIZE);
    expect(long.layers).toHaveLength(1);
    expect(long.layers[0]!.velocity.x).toBeCloseTo(0.5, 1);
    // Over the last 4 frames alone the wobble hides the move: read as still.
    expect(measureMotion(wobbling.slice(-4), SIZE).layers).toHaveLength(0);
  });

  it('leaves a still frame as it is: nothing moved, so nothing is carried', () => {
    const known = Array.from({ length: 4 }, () => frame([{ x: 16, y: 16, half: 5, colour: RED }]));
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(0);
    expect(Array.from(carryOn(motion, 6))).toEqual(Array.from(known[3]!));
    // One known frame says nothing about motion either.
    expect(measureMotion(moving({ x: 8, y: 8 }, { x: 2, y: 0 }, 1), SIZE).layers).toHaveLength(0);
  });

  it('moves each object at its own speed', () => {
    const green = [-1, 1, -1];
    const known = Array.from({ length: 4 }, (_, f) => frame([
      { x: 6 + f, y: 8, half: 3, colour: RED },
      { x: 26 - 2 * f, y: 24, half: 3, colour: green },
    ]));
    const motion = measureMotion(known, SIZE);
    expect(motion.layers.map((l) => Math.round(l.velocity.x)).sort()).toEqual([-2, 1]);
    const later = carryOn(motion, 5);
    // Rows 5-10 hold the red square only, rows 21-26 the green one.
    const rows = (f: Float32Array, from: number, to: number) => objectAt(f.map((v, i) => (Math.floor((i % (32 * 32)) / 32) >= from && Math.floor((i % (32 * 32)) / 32) <= to ? v : BACKGROUND[Math.floor(i / (32 * 32))]!)));
    expect(rows(later, 4, 12).x).toBeCloseTo(rows(known[3]!, 4, 12).x + 5, 0);
    expect(rows(later, 20, 28).x).toBeCloseTo(rows(known[3]!, 20, 28).x - 10, 0);
  });

  it('takes an object out through the edge it moves toward and brings it back in through the other', () => {
    const known = moving({ x: 22, y: 16 }, { x: 2, y: 0 }, 4);
    const motion = measureMotion(known, SIZE);
    const last = objectAt(known[3]!);
    expect(last.x).toBe(28); // against the right edge
    // Half out at the right edge after 2 frames, then (nearly) gone: the lap's gap of a pixel.
    const leaving = objectAt(carryOn(motion, 2));
    expect(leaving.x).toBeGreaterThan(29);
    expect(leaving.area).toBeLessThan(0.75 * last.area);
    expect(Math.min(...[4, 5, 6].map((d) => objectAt(carryOn(motion, d)).area))).toBeLessThan(0.2 * last.area);
    // Then in from the left, still moving right.
    const back = [8, 9, 10].map((d) => objectAt(carryOn(motion, d)));
    expect(back[0]!.x).toBeLessThan(6);
    expect(back[1]!.x).toBeGreaterThan(back[0]!.x);
    expect(back[2]!.x).toBeGreaterThan(back[1]!.x);
  });

  it('brings back an object that left during the known frames, and keeps an empty clip empty', () => {
    // Fully in, 6 px of it, 3 px, gone: a chain's window that starts just after the exit.
    const known = moving({ x: 27, y: 16 }, { x: 3, y: 0 }, 4);
    expect(known.map((f) => objectAt(f).area)).toEqual([64, 48, 24, 0]);
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(1);
    expect(motion.layers[0]!.velocity.x).toBeCloseTo(3, 0);
    // Read where most of it showed (6 px wide, two frames back), it comes in from the left
    // and moves right; the last known frame stays the still part.
    const back = [2, 3, 4].map((d) => objectAt(carryOn(motion, d)));
    expect(back[0]!.x).toBeLessThan(4);
    expect(back[1]!.x).toBeGreaterThan(back[0]!.x + 1);
    expect(back[2]!.x).toBeGreaterThan(back[1]!.x + 1);
    expect(back[2]!.area).toBeGreaterThanOrEqual(48);
    // Frames that never show anything carry nothing.
    const empty = Array.from({ length: 4 }, () => frame([]));
    expect(measureMotion(empty, SIZE).layers).toHaveLength(0);
  });

  it('remembers an object that left long before the last frame, from the last frame that showed it whole', () => {
    // A chain's lookback: the square crosses to the right edge, leaves, and 10 empty frames follow.
    const known = [...moving({ x: 16, y: 12 }, { x: 2, y: 0 }, 10), ...Array.from({ length: 10 }, () => frame([]))];
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(1);
    expect(motion.layers[0]!.velocity.x).toBeCloseTo(2, 0);
    // Seen whole at x = 26 (frame 5, 14 frames back) and moving 2 px a frame. The frames since
    // show it has not come back yet, so it comes in from the left at once, and whole.
    const back = [1, 2, 3, 4, 5, 6].map((d) => objectAt(carryOn(motion, d)));
    const entered = back.findIndex((b) => b.area > 0);
    expect(entered).toBe(0);
    expect(back[0]!.x).toBeLessThan(2);
    expect(Math.max(...back.map((b) => b.area || 0))).toBe(64);
    for (let i = entered + 1; i < back.length; i++) expect(back[i]!.x).toBeGreaterThan(back[i - 1]!.x);
  });

  it('completes an object coming back in at an edge from the last frame that showed it whole', () => {
    // Whole at x = 25, then out at the right, then its first 3 px back in at the left.
    const whole = moving({ x: 21, y: 20 }, { x: 2, y: 0 }, 3);
    const gone = Array.from({ length: 6 }, () => frame([]));
    const entering = [-3, -1].map((x) => frame([{ x, y: 20, half: 4, colour: RED }]));
    const known = [...whole, ...gone, ...entering];
    expect(objectAt(known.at(-1)!).area).toBe(24);
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(1);
    // Three frames on it is whole (8 x 8) at x = 5, not a 3-px sliver moved off the edge.
    const on = objectAt(carryOn(motion, 3));
    expect(on.area).toBe(64);
    expect(on.x).toBeCloseTo(5, 0);
    expect(on.y).toBeCloseTo(20, 0);
    // Without the frames that showed it whole, only the sliver is known.
    const short = objectAt(carryOn(measureMotion(entering, SIZE), 3));
    expect(short.area).toBeLessThan(64);
  });

  it('takes on out a sliver held at the edge that a whole object was moving out through', () => {
    // Whole and moving right, then half out, then a 2-px sliver the model holds at the edge.
    const known = [...moving({ x: 18, y: 16 }, { x: 2, y: 0 }, 5), ...[30, 33, 33, 33].map((x) => frame([{ x, y: 16, half: 4, colour: RED }]))];
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(1);
    expect(motion.layers[0]!.velocity.x).toBeCloseTo(2, 0);
    // It leaves, and comes back whole from the left.
    expect(objectAt(carryOn(motion, 2)).area || 0).toBe(0);
    const back = [6, 8].map((d) => objectAt(carryOn(motion, d)));
    expect(back[0]!.x).toBeLessThan(back[1]!.x);
    expect(back[1]!.area).toBe(64);
    // Held at an edge it was not moving toward, it stays held.
    const parked = [...moving({ x: 18, y: 16 }, { x: -2, y: 0 }, 5), ...Array.from({ length: 4 }, () => frame([{ x: 33, y: 16, half: 4, colour: RED }]))];
    expect(measureMotion(parked, SIZE).layers).toHaveLength(0);
  });

  it('brings in whole a sliver held at the edge an object that left comes back through', () => {
    // Whole and moving right, then gone through the right edge, then a 3-px sliver the model
    // holds at the left edge for four frames (read as standing still): the object coming back round.
    const whole = moving({ x: 14, y: 16 }, { x: 2, y: 0 }, 5);
    const gone = Array.from({ length: 6 }, () => frame([]));
    const known = [...whole, ...gone, ...[-1, -1, -1, -1].map((x) => frame([{ x, y: 16, half: 4, colour: RED }]))];
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(1);
    expect(motion.layers[0]!.velocity.x).toBeCloseTo(2, 0);
    // Carried on, it comes in whole at its speed instead of standing at the edge.
    const on = [4, 6].map((d) => objectAt(carryOn(motion, d)));
    expect(on[1]!.x - on[0]!.x).toBeCloseTo(4, 0);
    expect(on[1]!.area).toBe(64);
    // Held there before the object could have left, it stays held (the parked case above).
    const early = [...moving({ x: 14, y: 16 }, { x: 2, y: 0 }, 5), ...[-1, -1, -1, -1].map((x) => frame([{ x, y: 16, half: 4, colour: RED }]))];
    expect(measureMotion(early, SIZE).layers).toHaveLength(0);
  });

  it('completes loosely, or else takes out at the object\'s speed, a sliver at the edge it was going out through', () => {
    // Whole (8 x 8) and moving right, then the model holds a thin bar at the edge it was going
    // out through. It is what is left of the object: it goes on out instead of standing there.
    const whole = moving({ x: 18, y: 16 }, { x: 2, y: 0 }, 5);
    const bar = (ys: number[]) => Array.from({ length: 4 }, () => frame(ys.map((y) => ({ x: 31, y, half: 1, colour: RED }))));
    // 2 x 16: the whole view's edge column matches it at 0.5, so the whole object goes out and
    // comes back round whole.
    const loose = measureMotion([...whole, ...bar([9, 11, 13, 15, 17, 19, 21, 23])], SIZE);
    expect(loose.layers).toHaveLength(1);
    expect(loose.layers[0]!.velocity.x).toBeCloseTo(2, 0);
    expect(objectAt(carryOn(loose, 2)).area || 0).toBe(0);
    expect(Array.from({ length: 20 }, (_, d) => objectAt(carryOn(loose, 12 + d)).area).includes(64)).toBe(true);
    // 2 x 28: too unlike it to place it; the bar itself goes out at the object's speed.
    const unlike = measureMotion([...whole, ...bar([3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29])], SIZE);
    expect(unlike.layers).toHaveLength(1);
    expect(unlike.layers[0]!.velocity.x).toBeCloseTo(2, 0);
    expect(unlike.layers[0]!.shift).toEqual({ x: 0, y: 0 });
    expect(objectAt(carryOn(unlike, 2)).area || 0).toBe(0);
  });

  it('carries an object that came in through an edge at the speed it had clear of the edges', () => {
    // 1 px a frame across the middle, out through the right edge, back in from the left; then,
    // as it comes clear of the edge, it creeps at 0.4 px a frame, the way a model draws an
    // object coming in with its back stuck to the edge.
    const path = [...Array.from({ length: 40 }, (_, f) => 8 + f), ...Array.from({ length: 9 }, (_, f) => -5 + f), ...Array.from({ length: 7 }, (_, f) => 4.4 + 0.4 * f)];
    const known = path.map((x) => frame(x > 36 ? [] : [{ x, y: 16, half: 4, colour: RED }]));
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(1);
    expect(motion.layers[0]!.velocity.x).toBeCloseTo(1, 1);
    // Without the frames clear of the edges it reads the creep.
    const crept = measureMotion(known.slice(-24), SIZE);
    expect(crept.layers[0]!.velocity.x).toBeLessThan(0.6);
  });

  it('moves on an object that came in through an edge and stood still just inside it, at its speed clear of the edges', () => {
    // 1 px a frame across the middle, out through the right edge, back in from the left, then
    // drawn standing a pixel inside the edge, its back brushing it now and then (as shapes-v1 drew
    // its circle after a lap, for the rest of the chain).
    const lap = [...Array.from({ length: 40 }, (_, f) => 8 + f), ...Array.from({ length: 9 }, (_, f) => -5 + f)];
    const standing = (at: number[]) => [...lap, ...at].map((x) => frame(x > 36 ? [] : [{ x, y: 16, half: 4, colour: RED }]));
    const brushing = [4.6, 5, 5, 4.6, 5, 5, 4.6, 5, 5, 4.6, 5];
    const motion = measureMotion(standing(brushing), SIZE);
    expect(motion.layers).toHaveLength(1);
    expect(motion.layers[0]!.velocity.x).toBeCloseTo(1, 1);
    expect(objectAt(carryOn(motion, 4)).x).toBeCloseTo(5 + 4, 0);
    // Standing further in, it may have stopped where it meant to: it stays.
    const stopped = measureMotion(standing([4, 6, 8, 10, 12, 14, 14, 14, 14]), SIZE);
    expect(stopped.layers).toHaveLength(0);
  });

  it('brings back the object that left, not a fleck the model left behind it', () => {
    // A circle-sized object out through the left edge at 1 px a frame; as it goes, a few pixels
    // of its colour drift off up and left (shapes-v1 drew such a fleck), then nothing.
    const path = Array.from({ length: 26 }, (_, f) => 20 - f);
    const fleck = [{ x: 5, y: 4 }, { x: 3.5, y: 2.5 }];
    const known = [...path.map((x) => frame([{ x, y: 16, half: 5, colour: RED }])), ...fleck.map((p) => frame([{ ...p, half: 1, colour: RED }])), ...Array.from({ length: 8 }, () => frame([]))];
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(1);
    expect(motion.layers[0]!.pixels.length).toBeGreaterThan(80);
    expect(motion.layers[0]!.velocity.x).toBeCloseTo(-1, 1);
    expect(motion.layers[0]!.velocity.y).toBeCloseTo(0, 1);
  });

  it('does not take a faint blob of noise for an object, moving or left', () => {
    // A model's empty frames are noisy: a faint blob jumping about (a third of the object's
    // contrast) next to an object that left. Only the object is carried, and it comes back.
    const faint = [-0.5, -1, 0.2];
    const known = [0, 1, 2, 3].map((f) => frame([{ x: 27 + 3 * f, y: 16, half: 4, colour: RED }, { x: 6 + 4 * f, y: 6 + 3 * f, half: 1.5, colour: faint }]));
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(1);
    expect(motion.layers[0]!.velocity.x).toBeCloseTo(3, 0);
    expect(motion.layers[0]!.velocity.y).toBeCloseTo(0, 0);
  });

  it('does not bring back an object that vanished inside the frame: that was no exit', () => {
    const known = [10, 12, 14].map((x) => frame([{ x, y: 16, half: 4, colour: RED }]));
    known.push(frame([]));
    expect(measureMotion(known, SIZE).layers).toHaveLength(0);
  });

  it('does not bring back an object that is still in the last frame: one that moved, then stopped', () => {
    const known = [10, 12, 14, 14, 14, 14, 14].map((x) => frame([{ x, y: 16, half: 4, colour: RED }]));
    const motion = measureMotion(known, SIZE);
    expect(motion.layers).toHaveLength(0);
    expect(Array.from(carryOn(motion, 5))).toEqual(Array.from(known.at(-1)!));
  });

  it('carries backward in time when the frames are given newest first (a tail read away from the new frames)', () => {
    const known = moving({ x: 10, y: 10 }, { x: 1, y: 1 }, 4).reverse();
    const motion = measureMotion(known, SIZE);
    const first = objectAt(known[3]!);
    const before = objectAt(carryOn(motion, 3));
    expect(before.x).toBeCloseTo(first.x - 3, 0);
    expect(before.y).toBeCloseTo(first.y - 3, 0);
  });

  it('works on any number of channels, as in a latent space', () => {
    const latent: FrameSize = { channels: 4, width: 24, height: 24 };
    const background = [0.2, -0.4, 0.1, 0.9];
    const known = Array.from({ length: 4 }, (_, f) => frame([{ x: 8, y: 6 + f, half: 3, colour: [-1.5, 1.2, 0.8, -0.6] }], latent, background));
    const motion = measureMotion(known, latent);
    expect(motion.layers).toHaveLength(1);
    expect(motion.layers[0]!.velocity.x).toBeCloseTo(0, 0);
    expect(motion.layers[0]!.velocity.y).toBeCloseTo(1, 0);
    expect(objectAt(carryOn(motion, 4), latent, background).y).toBeCloseTo(objectAt(known[3]!, latent, background).y + 4, 0);
  });
});
