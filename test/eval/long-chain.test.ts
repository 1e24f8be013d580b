import { describe, expect, it } from 'vitest';
import type { Clip } from '../../src/core/ports/video-model.ts';
import { drawShapeFrame } from '../../models/eval/draw-shape.ts';
import { readLongChain } from '../../models/eval/long-chain.ts';

const RED = [220, 30, 30] as const;
const BLACK = [0, 0, 0] as const;
const WINDOW = 16;
const FRAMES = 200;
const JOINS = Array.from({ length: 15 }, (_, k) => WINDOW + 12 * k).filter((j) => j < FRAMES);

/** A drawn chain: the circle's centre x, radius and background per frame (null: not drawn). */
function drawn(place: (f: number) => { x: number; r: number } | null, background: (f: number) => readonly [number, number, number] = () => BLACK): Clip {
  const frames = Array.from({ length: FRAMES }, (_, f) => {
    const at = place(f);
    return drawShapeFrame({ shape: 'circle', colour: RED, background: background(f), cx: at?.x ?? -100, cy: 16, r: at?.r ?? 1, width: 32, height: 32 });
  });
  return { width: 32, height: 32, fps: 8, frames };
}

/** Laps to the right at 1 px a frame: in from the left, across, out, back 12 px of path later. */
const lap = (f: number, r = 5) => ({ x: ((f + 8) % (32 + 2 * r + 12)) - r, r });

describe('readLongChain (a minute-long chain read back from its pixels)', () => {
  it('reads steady laps as one continuous video: shown, same size and speed, laps counted, no seams, background kept', () => {
    const r = readLongChain(drawn((f) => lap(f)), 'right', JOINS, WINDOW);
    // A lap is 54 frames, 12 of them with the circle out of sight: the first in view at frame
    // 0, back in at frames 47, 101 and 155.
    expect(r.laps).toBe(3);
    expect(r.shown).toBeGreaterThan(0.7);
    expect(r.shown).toBeLessThan(0.9);
    expect(r.sizeKept).toBeCloseTo(1, 1);
    expect(r.speedKept).toBeCloseTo(1, 1);
    expect(r.joinRatio).toBeCloseTo(1, 0);
    expect(r.backgroundShift).toBe(0);
  });

  it('reads the same laps leftward when asked for left, and as going backward when asked for right', () => {
    const mirrored = drawn((f) => ({ x: 32 - lap(f).x, r: 5 }));
    expect(readLongChain(mirrored, 'left', JOINS, WINDOW).speedKept).toBeCloseTo(1, 1);
    expect(readLongChain(mirrored, 'left', JOINS, WINDOW).laps).toBe(3);
    expect(readLongChain(mirrored, 'right', JOINS, WINDOW).laps).toBe(0);
  });

  it('reads an object that left and never came back', () => {
    const r = readLongChain(drawn((f) => (f < 40 ? { x: 4 + f, r: 5 } : null)), 'right', JOINS, WINDOW);
    expect(r.shown).toBeLessThan(0.25);
    expect(r.laps).toBe(0);
    expect(r.sizeKept).toBe(0);
  });

  it('reads a shrinking object, one that stopped, and a background that drifted', () => {
    const shrinking = readLongChain(drawn((f) => ({ x: lap(f).x, r: 5 - (2.5 * f) / FRAMES })), 'right', JOINS, WINDOW);
    expect(shrinking.sizeKept).toBeLessThan(0.45);
    const stopped = readLongChain(drawn((f) => ({ x: 6 + Math.min(f, 10), r: 5 })), 'right', JOINS, WINDOW);
    expect(stopped.speedKept).toBe(0);
    // Green 0 -> 12 over the chain: 9-12 in its last quarter.
    const drifted = readLongChain(drawn((f) => lap(f), (f) => [0, Math.round((12 * f) / FRAMES), 0]), 'right', JOINS, WINDOW);
    expect(drifted.backgroundShift).toBeGreaterThanOrEqual(10);
    expect(drifted.backgroundShift).toBeLessThanOrEqual(11);
  });

  it('reads a jump at every join as a seam', () => {
    const jumpy = readLongChain(drawn((f) => ({ x: lap(f).x + (JOINS.filter((j) => j <= f).length % 2) * 6, r: 5 })), 'right', JOINS, WINDOW);
    expect(jumpy.joinRatio).toBeGreaterThan(2);
  });
});
