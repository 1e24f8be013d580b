import { renderChain } from '../engine/chain.ts';
import type { Clip, VideoModel } from '../../src/core/ports/video-model.ts';
import { median, objectMask, type Vocabulary } from './analyse-clip.ts';
import { DIRECTIONS, type Direction } from './continuation.ts';
import { drawShapeFrame } from './draw-shape.ts';
import type { EvalCase } from './held-out-prompts.ts';

/**
 * How a model carries on an object it did not draw. For each held-out prompt that asks for a
 * direction, the known frames are that prompt's object drawn moving that way at a steady speed,
 * its last known centre at one of LEADS from the edge it moves toward; one window continues them,
 * the way /extend does. This separates the model's part of a continuation from how well it drew
 * a chain's first window (continuation.ts reads both together).
 *
 * Read from the object's trailing edge, the side away from the asked direction: it keeps the
 * object's speed until the object has gone, where the centroid slows down as the frame clips the
 * object, and reads as "stopped at the edge" when it is not.
 */

/** Where the last known frame has the object's centre: its distance to the exit edge, a fraction of the span (0.9: partly in through the far edge, coming in). */
export const LEADS = [0.9, 0.5, 0.25, 0.1] as const;
/** The drawn object's half-size and speed, fractions of the frame (5.5 px and 1 px a frame at 32). */
const HALF_SIZE = 5.5 / 32;
const SPEED = 1 / 32;
/** Object pixels a frame needs for the object to count as shown (continuation.ts's SHOWN_PIXELS). */
const SHOWN_PIXELS = 4;

export interface ExitReading {
  /** Median step of the trailing edge along the asked way, over the drawn speed: 1 keeps the speed, 0 stops. */
  speedRatio: number;
  /** New frames that still show the object after the drawn path has taken it out (0 when it had not left by the end). */
  heldFrames: number;
  /** Whether the drawn path takes the object out within the window. */
  shouldLeave: boolean;
  /** RGB distance between the known background and the new frames' border. */
  backgroundShift: number;
}

export interface ExitSummary {
  lead: number;
  cases: number;
  /** Known (drawn) frames before the window's new ones. */
  known: number;
  speedRatio: number;
  /** Over the cases whose drawn path leaves within the window; NaN when none does. */
  heldFrames: number;
  backgroundShift: number;
}

type Rgb = readonly [number, number, number];

/** Positions along the asked way: 0 at the edge it moves away from, `span` at the exit edge. */
function axis(asked: Direction, width: number, height: number): { span: number; along: (x: number, y: number) => number; place: (a: number, across: number) => [number, number] } {
  switch (asked) {
    case 'right': return { span: width, along: (x) => x, place: (a, c) => [a, c] };
    case 'left': return { span: width, along: (x) => width - x, place: (a, c) => [width - a, c] };
    case 'down': return { span: height, along: (_, y) => y, place: (a, c) => [c, a] };
    case 'up': return { span: height, along: (_, y) => height - y, place: (a, c) => [c, height - a] };
  }
}

/** `count` frames of `shape` moving `asked`, the last with its centre `lead` of the span from the exit edge. */
export function drawExit(opts: { shape: string; colour: Rgb; background: Rgb; asked: Direction; lead: number; count: number; width: number; height: number }): Clip {
  const { width, height, asked } = opts;
  const size = Math.min(width, height);
  const { span, place } = axis(asked, width, height);
  const across = (asked === 'left' || asked === 'right' ? height : width) / 2;
  const frames = Array.from({ length: opts.count }, (_, f) => {
    const a = span * (1 - opts.lead) - SPEED * size * (opts.count - 1 - f);
    const [cx, cy] = place(a, across);
    return drawShapeFrame({ shape: opts.shape, colour: opts.colour, background: opts.background, cx, cy, r: HALF_SIZE * size, width, height });
  });
  return { width, height, fps: 8, frames };
}

/**
 * Reads the new frames of one window after `drawExit`'s known frames. The trailing edge is tracked
 * from where the drawn object's was: only object pixels no more than one half-size behind the last
 * trailing edge count, so an object coming back in through the far edge (a lap) is not read as
 * this one stepping back. The track ends at the first frame that does not show the object.
 */
export function readExit(fresh: Clip, asked: Direction, lead: number, background: Rgb): ExitReading {
  const { width: w, height: h } = fresh;
  const size = Math.min(w, h);
  const { span, along } = axis(asked, w, h);
  const speed = SPEED * size;
  const half = HALF_SIZE * size;
  let trailing = span * (1 - lead) - half;
  const steps: number[] = [];
  let shownUntil = -1;
  const border: number[][] = [[], [], []];
  fresh.frames.forEach((frame, f) => {
    const mask = objectMask(frame, w * h, background);
    let nearest = Infinity, n = 0;
    for (let i = 0; i < w * h; i++) {
      if (!mask[i]) continue;
      const a = along((i % w) + 0.5, Math.floor(i / w) + 0.5);
      if (a < trailing - half) continue;
      n++;
      nearest = Math.min(nearest, a - 0.5);
    }
    if (n >= SHOWN_PIXELS && shownUntil === f - 1) {
      steps.push(nearest - trailing);
      trailing = nearest;
      shownUntil = f;
    }
    for (let i = 0; i < w * h; i++) {
      const x = i % w, y = Math.floor(i / w);
      if (x === 0 || y === 0 || x === w - 1 || y === h - 1) for (let c = 0; c < 3; c++) border[c]!.push(frame[i * 3 + c]!);
    }
  });
  // The drawn path is out when its trailing edge passes the exit edge: at new frame `goneAt`.
  const goneAt = Math.ceil((span - (span * (1 - lead) - half)) / speed) - 1;
  const shouldLeave = goneAt < fresh.frames.length;
  const rgb = border.map(median);
  return {
    speedRatio: steps.length ? median(steps) / speed : 0,
    heldFrames: shouldLeave ? Math.max(0, shownUntil - goneAt + 1) : 0,
    shouldLeave,
    backgroundShift: Math.hypot(rgb[0]! - background[0], rgb[1]! - background[1], rgb[2]! - background[2]),
  };
}

/** Renders and reads one continued window per direction case and lead. */
export async function continueDrawnExits(model: VideoModel, cases: EvalCase[], vocabulary: Vocabulary, opts: { seed: number; overlap?: number; strength?: number }): Promise<ExitSummary[]> {
  const { frames: window, width, height } = model.defaults;
  const overlap = opts.overlap ?? 4;
  const moving = cases.filter((c) => DIRECTIONS.includes(c.expect.motion));
  const summaries: ExitSummary[] = [];
  for (const lead of LEADS) {
    const readings: ExitReading[] = [];
    for (const [i, c] of moving.entries()) {
      const asked = c.expect.motion as Direction;
      const colour = vocabulary.colours[c.expect.colour]!, background = vocabulary.colours[c.expect.background]!;
      const before = drawExit({ shape: c.expect.shape, colour, background, asked, lead, count: overlap, width, height });
      const chain = await renderChain(model, { prompt: c.prompt, seed: opts.seed + i, frames: window - overlap }, { before }, { overlap, window, ...(opts.strength !== undefined && { strength: opts.strength }) });
      readings.push(readExit(chain.takes[0]!.clip, asked, lead, background));
    }
    const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
    summaries.push({
      lead,
      cases: readings.length,
      known: overlap,
      speedRatio: mean(readings.map((r) => r.speedRatio)),
      heldFrames: mean(readings.filter((r) => r.shouldLeave).map((r) => r.heldFrames)),
      backgroundShift: mean(readings.map((r) => r.backgroundShift)),
    });
  }
  return summaries;
}
