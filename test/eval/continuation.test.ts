import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Clip } from '../../src/core/ports/video-model.ts';
import type { Vocabulary } from '../../models/eval/analyse-clip.ts';
import { readChain } from '../../models/eval/continuation.ts';

const vocabulary = JSON.parse(readFileSync(new URL('../../models/shapes-v1/vocabulary.json', import.meta.url), 'utf8')) as Vocabulary;

/** A red disc of radius 4 on black, its centre x per frame given (y fixed at 16): drawn, not rendered. */
function disc(xs: number[]): Clip {
  const frames = xs.map((cx) => {
    const frame = new Uint8Array(32 * 32 * 3);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - 16) ** 2 <= 16) frame.set(vocabulary.colours.red!, (y * 32 + x) * 3);
      }
    }
    return frame;
  });
  return { width: 32, height: 32, fps: 8, frames };
}

const JOINS = [16, 28];
const read = (xs: number[], asked: 'left' | 'right' = 'right') => readChain(disc(xs), asked, JOINS, 16, vocabulary);

describe('readChain (how a 40-frame chain continues a moving clip)', () => {
  it('reads a steady move on, out through the asked edge, as on its way, with its speed and no jump', () => {
    // 0.5 px a frame: still in the frame at the end.
    const slow = read(Array.from({ length: 40 }, (_, f) => 6 + 0.5 * f));
    expect(slow.onItsWay).toBe(true);
    expect(slow.speed).toBeCloseTo(0.5, 1);
    expect(slow.shown).toBe(1);
    expect(slow.jumpPx).toBeCloseTo(slow.stepPx, 0);
    expect(slow.joinRatio).toBeLessThan(1.3);
    // 1 px a frame: out through the right edge by frame ~36, which is still on its way.
    const leaving = read(Array.from({ length: 40 }, (_, f) => 4 + f));
    expect(leaving.onItsWay).toBe(true);
    expect(leaving.shown).toBeLessThan(1);
  });

  it('reads a lap inside the last window at its speed, not as a move backward', () => {
    // 2 px a frame, out through the right edge at frame 35 and back in from the left at 38.
    const lapping = read(Array.from({ length: 40 }, (_, f) => -6 + ((16 + 2 * f) % 44)));
    expect(lapping.speed).toBeCloseTo(2, 0);
    expect(lapping.onItsWay).toBe(true);
  });

  it('reads a stop after the first window, a wrong way and a step back at each join as not on its way', () => {
    const stopped = read(Array.from({ length: 40 }, (_, f) => 6 + Math.min(f, 15)));
    expect(stopped.onItsWay).toBe(false);
    expect(stopped.speed).toBeCloseTo(0, 1);
    expect(read(Array.from({ length: 40 }, (_, f) => 26 - 0.5 * f)).onItsWay).toBe(false);
    // Each window starts the object over at the left: it moves the asked way, but jumps back.
    const restarting = read(Array.from({ length: 40 }, (_, f) => 6 + (f < 16 ? f : (f - (f < 28 ? 16 : 28)))));
    expect(restarting.jumpPx).toBeGreaterThan(5 * restarting.stepPx);
    expect(restarting.joinRatio).toBeGreaterThan(2);
    // Left through the wrong edge is not on its way either.
    expect(read(Array.from({ length: 40 }, (_, f) => 4 + f), 'left').onItsWay).toBe(false);
  });
});
