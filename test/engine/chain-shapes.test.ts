import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChain } from '../../models/engine/chain.ts';
import { loadModel } from '../../models/engine/load-model.ts';
import { analyseClip, type Vocabulary } from '../../models/eval/analyse-clip.ts';
import { heldOutPrompts } from '../../models/eval/held-out-prompts.ts';
import { readLongChain } from '../../models/eval/long-chain.ts';
import { CONTINUATION_STRENGTH, planSegments } from '../../src/core/segment-plan.ts';
import type { Clip, VideoModel } from '../../src/core/ports/video-model.ts';
import { CPU, meanAbsDiff, SHAPES_V1 } from './engine-fixtures.ts';

/*
 * Chains with shapes-v1 (16-frame windows of 32x32), read back from the pixels. It was the
 * built-in model when these bounds were measured, and it stays the model here: every check pairs
 * an engine rule with a control that fails it, and the controls fail on v1's defects. shapes-v2,
 * the built-in model since, has less of them (unanchored, its black background drifts 4.5 RGB
 * over 12 s where v1's drifts past 15; with a short memory its circle keeps 0.76 of its speed
 * after a lap where v1's stops), so with it the controls pass too and the checks prove nothing;
 * `npm run eval` measures v2's chains. Two measures: the seam ratio, the mean absolute change across a join divided by the
 * mean change between neighbouring frames away from it; and where the object is (its centroid)
 * on either side of a join.
 *
 * The bounds are measured, not wished for, at CONTINUATION_STRENGTH (0.6), 10 steps, overlap 4,
 * seeds 1-4 (the seeds below and the next three): seam ratios 0.9-2.1 (forward joins 1.43-1.47,
 * backward 0.92-1.11, bridge ends 1.87-2.14 and 1.31-1.66); the backward lead-in and both bridge
 * ends within 0.02-1.16 px of the clip they meet. The same renders with the known frames dropped
 * give ratios of 4.5-5.3 and 11-14 px; at strength 1 (new frames from noise, the old default)
 * 3.0-3.7 and 9-11 px, because shapes-v1 places the object from the prompt and the frame's place
 * in its window (net.py: coord_motion) and each window pulls it back. With the fade at the joins
 * (fadeAtJoin, the default) the forward joins read 1.16-1.20; the controls run without it, since
 * a cross-fade smooths any two videos (1.24-1.48 with the known frames dropped). Measured again
 * with carried motion that completes clipped objects and reads a chain's lookback (2026-12-05):
 * forward joins 1.51-1.64 unfaded, 1.25-1.34 faded (before that change 1.51-1.61 and 1.26-1.34);
 * then with the background anchored (src/core/background-anchor.ts, black drifted navy across
 * each join) 1.25-1.34 unfaded and 1.07-1.12 faded. Every check runs
 * a control that fails it. DAILIES_CONTINUATION_TABLE=1 prints the table the strength was chosen from
 * (about a minute; =full adds the 60 eval prompts, about 8 minutes on 2 busy cores).
 */
const SEAM_BOUND = 2.5;
/** The same with the fade at the joins (fadeAtJoin): between the faded 1.07-1.12 and the unfaded 1.25-1.34 of seeds 1-4. */
const FADED_BOUND = 1.2;
/** How far (px, of 32) the object may be from where the clip it meets has it. */
const NEAR_PX = 2;
const OVERLAP = 4;
const WINDOW = 16;

const vocabulary = JSON.parse(readFileSync(join(SHAPES_V1, 'vocabulary.json'), 'utf8')) as Vocabulary;
const RED_RIGHT = 'a red circle moving right on a black background';
const GREEN_RIGHT = 'a green square moving right on a black background';
const YELLOW_LEFT = 'a yellow square moving left on a blue background';

let model: VideoModel;
/** The same model with every request's known frames removed: the control. */
let blind: VideoModel;
/** One window of RED_RIGHT: the circle crosses from the left (frame 0) to the right (frame 15). */
let red: Clip;
/** One window of GREEN_RIGHT, what bridges arrive at. */
let green: Clip;
beforeAll(async () => {
  model = await loadModel(SHAPES_V1, CPU);
  red = (await model.generate({ prompt: RED_RIGHT, seed: 1 })).takes[0]!.clip;
  green = (await model.generate({ prompt: GREEN_RIGHT, seed: 6 })).takes[0]!.clip;
  blind = {
    name: model.name,
    defaults: model.defaults,
    generate: ({ known: _dropped, ...request }, options) => model.generate(request, options),
    dispose: async () => {},
  };
});
afterAll(async () => model.dispose());

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Mean absolute change between neighbouring frames. */
const meanStep = (frames: Uint8Array[]) => mean(frames.slice(1).map((f, i) => meanAbsDiff(frames[i]!, f)));
const asClip = (frames: Uint8Array[]): Clip => ({ width: 32, height: 32, fps: 8, frames });

/** Object colour and background as the eval reads them, on one frame. */
function looks(frame: Uint8Array): string {
  const r = analyseClip(asClip([frame]), vocabulary);
  return `${r.object} on ${r.background}`;
}

/** The per-channel median of a frame's outermost pixels. */
function borderColour(frame: Uint8Array): number[] {
  const border: number[] = [];
  for (let i = 0; i < 32; i++) for (const [x, y] of [[i, 0], [i, 31], [0, i], [31, i]]) border.push((y! * 32 + x!) * 3);
  return [0, 1, 2].map((c) => border.map((at) => frame[at + c]!).sort((a, b) => a - b)[border.length >> 1]!);
}

/** Centroid of the pixels further than the eval's 60 (RGB distance) from the border's median colour. */
function centroid(frame: Uint8Array): { x: number; y: number } {
  const bg = borderColour(frame);
  let [sx, sy, n] = [0, 0, 0];
  for (let i = 0; i < 32 * 32; i++) {
    if (Math.hypot(frame[i * 3]! - bg[0]!, frame[i * 3 + 1]! - bg[1]!, frame[i * 3 + 2]! - bg[2]!) <= 60) continue;
    [sx, sy, n] = [sx + (i % 32), sy + Math.floor(i / 32), n + 1];
  }
  return n ? { x: sx / n, y: sy / n } : { x: NaN, y: NaN };
}
/** Distance in px between the object's centroids in two frames. */
function apart(a: Uint8Array, b: Uint8Array): number {
  const [p, q] = [centroid(a), centroid(b)];
  return Math.hypot(p.x - q.x, p.y - q.y);
}

const JOINS = [16, 28];
async function forward(m: VideoModel, prompt: string, seed: number, strength = CONTINUATION_STRENGTH, fade = true) {
  const frames = (await renderChain(m, { prompt, seed, frames: 40 }, {}, { overlap: OVERLAP, window: WINDOW, strength, fade })).takes[0]!.clip.frames;
  const steps = frames.slice(1).map((f, i) => ({ at: i + 1, change: meanAbsDiff(frames[i]!, f) }));
  const seam = mean(steps.filter((s) => JOINS.includes(s.at)).map((s) => s.change)) / mean(steps.filter((s) => !JOINS.includes(s.at)).map((s) => s.change));
  return { frames, seam };
}
async function leadIn(m: VideoModel, seed: number, strength = CONTINUATION_STRENGTH) {
  const frames = (await renderChain(m, { prompt: RED_RIGHT, seed, frames: 12 }, { after: red }, { overlap: OVERLAP, window: WINDOW, strength })).takes[0]!.clip.frames;
  return { frames, seam: meanAbsDiff(frames.at(-1)!, red.frames[0]!) / meanStep(frames), px: apart(frames.at(-1)!, red.frames[0]!) };
}
async function bridge(m: VideoModel, seed: number, strength = CONTINUATION_STRENGTH) {
  // The default transition: one window minus the known frames at both ends.
  const frames = (await renderChain(m, { prompt: GREEN_RIGHT, seed, frames: 8 }, { before: red, after: green }, { overlap: OVERLAP, window: WINDOW, strength })).takes[0]!.clip.frames;
  const [leave, arrive] = [red.frames.at(-1)!, green.frames[0]!];
  const inside = meanStep(frames);
  return {
    frames,
    seams: [meanAbsDiff(leave, frames[0]!) / inside, meanAbsDiff(frames.at(-1)!, arrive) / inside],
    px: [apart(leave, frames[0]!), apart(frames.at(-1)!, arrive)],
    looks: [looks(frames[0]!), looks(frames.at(-1)!)],
  };
}

describe('chains with shapes-v1', { timeout: 60_000 }, () => {
  it('joins the windows of a 40-frame clip with a seam ratio under the bound', async () => {
    expect(planSegments({ frames: 40, window: WINDOW, overlap: OVERLAP, headAvailable: 0, tailAvailable: 0 }).slice(1).map((s) => s.start)).toEqual(JOINS);
    const [kept, unfaded] = [await forward(model, RED_RIGHT, 1), await forward(model, RED_RIGHT, 1, CONTINUATION_STRENGTH, false)];
    // The control without the known frames runs without the fade too: a cross-fade smooths any
    // two videos, so it is the known frames that must bring the unfaded joins under the bound.
    const dropped = await forward(blind, RED_RIGHT, 1, CONTINUATION_STRENGTH, false);
    expect(kept.frames).toHaveLength(40);
    expect(unfaded.seam).toBeLessThanOrEqual(SEAM_BOUND); // measured 1.33
    expect(dropped.seam).toBeGreaterThan(SEAM_BOUND); // measured 4.85
    // Fading the chain's frames into each window's rendering of them spreads what is left.
    expect(kept.seam).toBeLessThanOrEqual(FADED_BOUND); // measured 1.12
    expect(unfaded.seam).toBeGreaterThan(FADED_BOUND);
  });

  it('keeps a flat background the colour it started with over a 12-s chain', async () => {
    // Border medians of the last 20 of 100 frames against frame 0: seeds 1-4 read 0-1 anchored,
    // 25-32 (black going navy, blue going paler) without.
    const shift = async (prompt: string, anchor: boolean) => {
      const frames = (await renderChain(model, { prompt, seed: 1, frames: 100 }, {}, { overlap: OVERLAP, window: WINDOW, anchor })).takes[0]!.clip.frames;
      const first = borderColour(frames[0]!);
      const shifts = frames.slice(-20).map((f) => {
        const c = borderColour(f);
        return Math.hypot(c[0]! - first[0]!, c[1]! - first[1]!, c[2]! - first[2]!);
      });
      return shifts.sort((a, b) => a - b)[10]!;
    };
    for (const prompt of [RED_RIGHT, YELLOW_LEFT]) {
      expect(await shift(prompt, true)).toBeLessThanOrEqual(3); // measured 0.0 and 0.0
      expect(await shift(prompt, false)).toBeGreaterThan(15); // measured 31.9 and 31.3
    }
  });

  it('takes a moving circle out and back in, lap after lap, over a 30-s chain', async () => {
    // Read as npm run eval's minute-long chains are (models/eval/long-chain.ts). Seeds 1-4
    // measured 3-4 laps, size kept 1.17-1.24 and speed kept 0.52-0.87; the same chains with the
    // lookback dropped (4 known frames only: what leaves is forgotten) 0 laps.
    const frames = 240;
    const joins = planSegments({ frames, window: WINDOW, overlap: OVERLAP, headAvailable: 0, tailAvailable: 0 }).slice(1).map((s) => s.start);
    const forgetful: VideoModel = { ...blind, generate: ({ known, ...request }, options) => model.generate(known ? { ...request, known: { ...known, earlier: undefined, later: undefined } } : request, options) };
    const laps = async (m: VideoModel, seed: number) => readLongChain((await renderChain(m, { prompt: RED_RIGHT, seed, frames }, {}, { overlap: OVERLAP, window: WINDOW })).takes[0]!.clip, 'right', joins, WINDOW);
    for (const seed of [1, 2]) {
      const read = await laps(model, seed);
      expect(read.laps).toBeGreaterThanOrEqual(2);
      expect(read.sizeKept).toBeGreaterThan(0.8);
      expect(read.speedKept).toBeGreaterThan(0.3);
    }
    expect((await laps(forgetful, 1)).laps).toBeLessThan(2);
  });

  it('keeps a circle that came back in moving, where a shorter memory left it standing for good', async () => {
    // shapes-v1 brings its "moving left" circle (seed 1003) back in slowly, stuck to the edge, then
    // draws it standing just inside: with 64 lookback frames it stood there for the rest of the
    // minute (speed kept 0, 5 laps); with 128 it keeps lapping (0.56, 6 laps).
    const frames = 480;
    const joins = planSegments({ frames, window: WINDOW, overlap: OVERLAP, headAvailable: 0, tailAvailable: 0 }).slice(1).map((s) => s.start);
    const shortMemory: VideoModel = { ...blind, generate: ({ known, ...request }, options) => model.generate(known ? { ...request, known: { ...known, earlier: known.earlier?.map((c) => ({ ...c, frames: c.frames.slice(-64) })) } } : request, options) };
    const read = async (m: VideoModel) => readLongChain((await renderChain(m, { prompt: 'a red circle moving left on a black background', seed: 1003, frames }, {}, { overlap: OVERLAP, window: WINDOW })).takes[0]!.clip, 'left', joins, WINDOW);
    const [kept, short] = [await read(model), await read(shortMemory)];
    expect(kept.speedKept).toBeGreaterThan(0.3); // measured 0.56
    expect(short.speedKept).toBeLessThan(0.15); // measured 0
  });

  it('extends a clip backward into its first frame, the object where the clip has it', async () => {
    const [kept, dropped, fromNoise] = [await leadIn(model, 11), await leadIn(blind, 11), await leadIn(model, 11, 1)];
    expect(kept.frames).toHaveLength(12);
    expect(looks(kept.frames.at(-1)!)).toBe(looks(red.frames[0]!));
    expect(kept.seam).toBeLessThanOrEqual(SEAM_BOUND); // measured 0.97
    expect(dropped.seam).toBeGreaterThan(SEAM_BOUND); // measured 4.71
    expect(kept.px).toBeLessThanOrEqual(NEAR_PX); // measured 0.39
    expect(Math.min(dropped.px, fromNoise.px)).toBeGreaterThan(3 * NEAR_PX); // measured 11.2 and 9.5
  });

  it('bridges two clips: the transition leaves the end of one and arrives at the start of the other', async () => {
    expect([looks(red.frames.at(-1)!), looks(green.frames[0]!)]).toEqual(['red on black', 'green on black']);
    const [kept, dropped, fromNoise] = [await bridge(model, 21), await bridge(blind, 21), await bridge(model, 21, 1)];
    expect(kept.frames).toHaveLength(8);
    expect(Math.max(...kept.seams)).toBeLessThanOrEqual(SEAM_BOUND); // measured 2.14 and 1.47
    expect(Math.min(...dropped.seams)).toBeGreaterThan(SEAM_BOUND); // measured 5.16 and 5.31
    // The first new frame still shows the red circle where it was; the last, the green square.
    expect(kept.looks).toEqual(['red on black', 'green on black']);
    expect(Math.max(...kept.px)).toBeLessThanOrEqual(NEAR_PX); // measured 0.65 and 0.14
    // From noise the transition turns green at once and puts the object elsewhere.
    expect(fromNoise.looks[0]).toBe('green on black');
    expect(Math.min(fromNoise.px[0]!, ...dropped.px)).toBeGreaterThan(3 * NEAR_PX); // measured 10.8, 12.0 and 12.1
  });

  // Not a check: the measurements CONTINUATION_STRENGTH was chosen from.
  it.runIf(process.env.DAILIES_CONTINUATION_TABLE)('prints the continuation table', { timeout: 900_000 }, async () => {
    const seeds = [1, 2, 3, 4];
    const eval60 = process.env.DAILIES_CONTINUATION_TABLE === 'full' ? heldOutPrompts(60) : [];
    const flicker = (frames: Uint8Array[]) => analyseClip(asClip(frames), vocabulary).flicker;
    const range = (xs: number[]) => `${mean(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
    const rows: string[] = [];
    for (const strength of ['dropped', 1, 0.9, 0.8, 0.7, 0.6] as const) {
      const m = strength === 'dropped' ? blind : model;
      const s = strength === 'dropped' ? 1 : strength;
      const cols: Record<string, number[]> = {};
      const put = (k: string, v: number) => (cols[k] ??= []).push(v);
      for (const seed of seeds) {
        const f = await forward(m, RED_RIGHT, seed, s);
        const o = await forward(m, YELLOW_LEFT, seed, s);
        put('join red/black, no fade', (await forward(m, RED_RIGHT, seed, s, false)).seam);
        put('join yellow/blue, no fade', (await forward(m, YELLOW_LEFT, seed, s, false)).seam);
        const l = await leadIn(m, 10 + seed, s);
        const b = await bridge(m, 20 + seed, s);
        put('join red/black', f.seam);
        put('join yellow/blue', o.seam);
        put('lead-in ratio', l.seam);
        put('lead-in px', l.px);
        put('bridge ratios', Math.max(...b.seams));
        put('bridge px from', b.px[0]!);
        put('bridge px to', b.px[1]!);
        put('bridge colours right', Number(b.looks[0] === 'red on black') + Number(b.looks[1] === 'green on black'));
        put('flicker red/black', flicker(f.frames));
        put('flicker yellow/blue', flicker(o.frames));
      }
      for (const [i, c] of eval60.entries()) {
        const { frames } = await forward(m, c.prompt, 1000 + i, s);
        put('eval flicker (40 frames)', flicker(frames));
        if (!['left', 'right', 'up', 'down'].includes(c.expect.motion)) continue;
        // Speed along the prompt's direction in the last window's new frames (28-39), px a frame.
        const [a, z] = [centroid(frames[28]!), centroid(frames[39]!)];
        const along = { left: a.x - z.x, right: z.x - a.x, up: a.y - z.y, down: z.y - a.y }[c.expect.motion as 'left']! / 11;
        if (Number.isFinite(along)) put('eval speed after a join', along);
      }
      rows.push(`| ${strength} | ${Object.values(cols).map(range).join(' | ')} |`);
      if (rows.length === 1) rows.unshift(`| strength | ${Object.keys(cols).join(' | ')} |`);
    }
    console.log(rows.join('\n'));
  });
});
