import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Clip } from '../../src/core/ports/video-model.ts';
import type { Vocabulary } from '../../models/eval/analyse-clip.ts';
import type { Direction } from '../../models/eval/continuation.ts';
import { drawExit, readExit } from '../../models/eval/edge-exit.ts';

const vocabulary = JSON.parse(readFileSync(new URL('../../models/shapes-v1/vocabulary.json', import.meta.url), 'utf8')) as Vocabulary;
const red = vocabulary.colours.red!, black = vocabulary.colours.black!;
const NEW = 12;

/** The new frames of a drawn continuation whose last known centre was `lead` from the exit edge, moving on `moved(k)` px by new frame k. */
function carried(asked: Direction, lead: number, moved: (k: number) => number, shape = 'circle'): Clip {
  const frames = Array.from({ length: NEW }, (_, k) => drawExit({ shape, colour: red, background: black, asked, lead: lead - moved(k) / 32, count: 1, width: 32, height: 32 }).frames[0]!);
  return { width: 32, height: 32, fps: 8, frames };
}

describe('readExit (carrying on a drawn object heading out of the frame)', () => {
  it('draws the known frames moving the asked way, ending at the lead', () => {
    const known = drawExit({ shape: 'square', colour: red, background: black, asked: 'right', lead: 0.25, count: 4, width: 32, height: 32 });
    const left = (f: Uint8Array) => Array.from({ length: 32 }, (_, x) => x).find((x) => f[(16 * 32 + x) * 3] === red[0]);
    expect(known.frames.map(left)).toEqual([15, 16, 17, 18]); // centres 21-24 (24 = 32 x (1 - 0.25)), half-size 5.5
  });

  for (const asked of ['right', 'left', 'up', 'down'] as const) {
    it(`reads a steady move ${asked} out through the edge as full speed, nothing held, the background unchanged`, () => {
      const r = readExit(carried(asked, 0.1, (k) => k + 1), asked, 0.1, black);
      expect(r.speedRatio).toBeCloseTo(1, 1);
      expect(r.shouldLeave).toBe(true);
      expect(r.heldFrames).toBe(0);
      expect(r.backgroundShift).toBe(0);
    });
  }

  it('reads an object that stops, or is pressed against the edge, as held', () => {
    const stopped = readExit(carried('right', 0.1, () => 0), 'right', 0.1, black);
    expect(stopped.speedRatio).toBe(0);
    expect(stopped.heldFrames).toBe(4); // the drawn path is gone from new frame 8 of 12
    // On at speed until half out, then held there: half-speed steps overall, every late frame held.
    const pressed = readExit(carried('left', 0.1, (k) => Math.min(k + 1, 3)), 'left', 0.1, black);
    expect(pressed.speedRatio).toBe(0);
    expect(pressed.heldFrames).toBe(4);
  });

  it('does not read a lap coming back in through the far edge as the object stepping back', () => {
    const lap = carried('right', 0.1, (k) => k + 1);
    const entering = carried('right', 1.1, (k) => k + 1); // the next lap, 32 px behind
    lap.frames = lap.frames.map((f, k) => (k >= 6 ? f.map((v, i) => Math.max(v, entering.frames[k]![i]!)) : f));
    const r = readExit(lap, 'right', 0.1, black);
    expect(r.speedRatio).toBeCloseTo(1, 1);
    expect(r.heldFrames).toBe(0);
  });

  it('measures a drifted background, and a far lead that does not leave within the window', () => {
    const far = carried('down', 0.5, (k) => k + 1);
    far.frames = far.frames.map((f) => f.map((v, i) => (v === black[i % 3] && i % 3 === 1 ? v + 30 : v)));
    const r = readExit(far, 'down', 0.5, black);
    expect(r.shouldLeave).toBe(false);
    expect(r.speedRatio).toBeCloseTo(1, 1);
    expect(r.backgroundShift).toBeCloseTo(30, 0);
  });
});
