import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Clip } from '../../src/core/ports/video-model.ts';
import { analyseClip, type Vocabulary } from '../../models/eval/analyse-clip.ts';
import { drawShapeFrame } from '../../models/eval/draw-shape.ts';
import { heldOutPrompts } from '../../models/eval/held-out-prompts.ts';
import { tallyShapes } from '../../models/eval/run-eval.ts';

const vocabulary = JSON.parse(readFileSync(new URL('../../models/shapes-v1/vocabulary.json', import.meta.url), 'utf8')) as Vocabulary;

/** Draws the clips the eval must read back, independently of the training renderer. */
function draw(shape: string, colour: string, background: string, motion: string, size = 32, frames = 16): Clip {
  const fg = vocabulary.colours[colour]!;
  const bg = vocabulary.colours[background]!;
  const out: Uint8Array[] = [];
  for (let f = 0; f < frames; f++) {
    const t = f / (frames - 1);
    let cx = size / 2, cy = size / 2, r = 5;
    if (motion === 'left') cx = size / 2 + 8 - 16 * t;
    if (motion === 'right') cx = size / 2 - 8 + 16 * t;
    if (motion === 'up') cy = size / 2 + 8 - 16 * t;
    if (motion === 'down') cy = size / 2 - 8 + 16 * t;
    if (motion === 'growing') r = 2.5 + 5 * t;
    if (motion === 'shrinking') r = 7.5 - 5 * t;
    const frame = drawShapeFrame({ shape, colour: fg, background: bg, cx, cy, r, width: size, height: size });
    out.push(frame);
  }
  return { width: size, height: size, fps: 8, frames: out };
}

describe('analyseClip', () => {
  const cases: [string, string, string, string][] = [
    ['circle', 'red', 'black', 'left'],
    ['square', 'blue', 'yellow', 'right'],
    ['triangle', 'green', 'white', 'up'],
    ['circle', 'pink', 'gray', 'down'],
    ['square', 'orange', 'purple', 'growing'],
    ['circle', 'cyan', 'blue', 'shrinking'],
    ['triangle', 'white', 'black', 'still'],
  ];
  for (const [shape, colour, background, motion] of cases) {
    it(`reads a ${colour} ${shape} ${motion} on ${background}`, () => {
      const r = analyseClip(draw(shape, colour, background, motion), vocabulary);
      expect({ shape: r.shape, colour: r.object, background: r.background, motion: r.motion }).toEqual({ shape, colour, background, motion });
      expect(r.flicker).toBe(0);
    });
  }

  it('measures background flicker', () => {
    const clip = draw('circle', 'red', 'black', 'still');
    clip.frames.forEach((f, i) => {
      if (i % 2) for (let p = 0; p < 32 * 3; p++) f[p] = Math.min(255, f[p]! + 25); // first row flashes, staying nearer the background than the object
    });
    expect(analyseClip(clip, vocabulary).flicker).toBeGreaterThan(0.5);
  });

  it('scores clean edges and blended edges near 0, coloured rims high, and the background on its own', () => {
    const clean = analyseClip(draw('square', 'white', 'black', 'still'), vocabulary);
    expect(clean.fringe).toBeLessThan(1);
    expect(clean.coreFringe).toBeLessThan(1);
    expect(clean.backgroundFringe).toBeLessThan(1);

    // Anti-aliased: edge pixels halfway between white and black are a blend, not a fringe.
    const blended = draw('square', 'white', 'black', 'still');
    const rimmed = draw('square', 'white', 'black', 'still');
    const at = (f: Uint8Array, x: number, y: number) => (y * 32 + x) * 3;
    for (const [bl, rm] of blended.frames.map((f, i) => [f, rimmed.frames[i]!] as const)) {
      const original = bl.slice();
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const i = at(original, x, y);
          const inside = original[i]! > 128;
          const edge = [[1, 0], [-1, 0], [0, 1], [0, -1]].some(([dx, dy]) => {
            const nx = x + dx!, ny = y + dy!;
            return nx >= 0 && ny >= 0 && nx < 32 && ny < 32 && (original[at(original, nx, ny)]! > 128) !== inside;
          });
          if (!edge || !inside) continue;
          bl.set([128, 128, 128], i); // grey: on the white-black line
          rm.set([40, 60, 230], i); // blue: what v1 drew around white objects
        }
      }
    }
    expect(analyseClip(blended, vocabulary).fringe).toBeLessThan(1);
    expect(analyseClip(rimmed, vocabulary).fringe).toBeGreaterThan(40);
    // The rim is not the background: a blue rim leaves the background's figure at 0, and a
    // background speckled off the white-black line (every 7th pixel greenish) raises it alone.
    expect(analyseClip(rimmed, vocabulary).backgroundFringe).toBeLessThan(1);
    const speckled = draw('square', 'white', 'black', 'still');
    for (const f of speckled.frames) for (let i = 0; i < 32 * 32; i += 7) if (f[i * 3]! < 128) f.set([10, 40, 10], i * 3);
    const read = analyseClip(speckled, vocabulary);
    expect(read.backgroundFringe).toBeGreaterThan(3);
    expect(read.coreFringe).toBeLessThan(1);
  });

  it('reports no object on an empty clip', () => {
    const clip = draw('circle', 'red', 'black', 'still');
    clip.frames = clip.frames.map(() => new Uint8Array(32 * 32 * 3).fill(15));
    const r = analyseClip(clip, vocabulary);
    expect(r.object).toBeNull();
    expect(r.background).toBe('black');
  });
});

describe('heldOutPrompts', () => {
  it('is reproducible, covers every motion and includes colour-swapped pairs', () => {
    const a = heldOutPrompts(60);
    expect(a).toEqual(heldOutPrompts(60));
    expect(a).toHaveLength(60);
    expect(new Set(a.map((c) => c.expect.motion)).size).toBe(7);
    const swapped = a.filter((c, i) => i > 0 && c.expect.colour === a[i - 1]!.expect.background && c.expect.background === a[i - 1]!.expect.colour);
    expect(swapped.length).toBeGreaterThan(5);
    for (const c of a) expect(c.expect.colour).not.toBe(c.expect.background);
  });

  it('draws a second set from another seed, made the same way (`dailies eval --prompt-seed`)', () => {
    const a = heldOutPrompts(60);
    const b = heldOutPrompts(60, 7);
    expect(b).toHaveLength(60);
    expect(b.filter((c, i) => c.prompt === a[i]!.prompt).length).toBeLessThan(6);
    expect(new Set(b.map((c) => c.expect.motion)).size).toBe(7);
    expect(b.some((c, i) => i > 0 && c.expect.colour === b[i - 1]!.expect.background && c.expect.background === b[i - 1]!.expect.colour)).toBe(true);
  });
});

describe('tallyShapes', () => {
  it('counts, per asked shape, what the reader saw in drawn clips, an empty clip as none', () => {
    const blank: Clip = { width: 32, height: 32, fps: 8, frames: Array.from({ length: 16 }, () => drawShapeFrame({ shape: 'circle', colour: vocabulary.colours['black']!, background: vocabulary.colours['black']!, cx: 16, cy: 16, r: 5, width: 32, height: 32 })) };
    const clips: [string, Clip][] = [
      ['square', draw('square', 'red', 'blue', 'still')],
      ['square', draw('circle', 'red', 'blue', 'still')],
      ['square', blank],
      ['triangle', draw('triangle', 'green', 'black', 'left')],
    ];
    const tally = tallyShapes(clips.map(([asked, clip]) => ({ asked, read: analyseClip(clip, vocabulary).shape })));
    expect(tally).toEqual({ square: { asked: 3, read: { square: 1, circle: 1, none: 1 } }, triangle: { asked: 1, read: { triangle: 1 } } });
  });
});
