import { renderChain } from '../engine/chain.ts';
import { planSegments } from '../../src/core/segment-plan.ts';
import type { Clip, VideoModel } from '../../src/core/ports/video-model.ts';
import { analyseClip, median, type Vocabulary } from './analyse-clip.ts';
import type { EvalCase } from './held-out-prompts.ts';

/**
 * How a model continues a moving clip, the way long renders and /extend continue one: a chain of
 * three windows (the CLI's and the workers' chain, at its default strength, overlap and fade) for
 * each held-out prompt that asks for a direction, read back from the pixels of the frames after
 * the first window. A sensible continuation of "moving right" keeps moving right, or carries the
 * object out through the right edge (and may bring it back).
 */

export type Direction = 'left' | 'right' | 'up' | 'down';
export const DIRECTIONS: readonly string[] = ['left', 'right', 'up', 'down'];

/** Object pixels a frame needs for the object to count as shown. */
const SHOWN_PIXELS = 4;
/** A frame shows the object whole with at least this share of the most pixels it has in the window. */
const WHOLE_SHARE = 0.8;
/** A frame's centre this close to an edge (a fraction of the frame) is at that edge. */
const EDGE_FRACTION = 0.25;

export interface ChainReading {
  /** The last window moves the asked way, or the object left through the edge it was moving toward (and may have come back in). */
  onItsWay: boolean;
  /** Px a frame along the asked direction in the last window: the median step between frames that show the object, a lap's wrap left out. */
  speed: number;
  /** Share of the frames after the first window that show the object. */
  shown: number;
  /** Mean change across the joins over the mean change between other neighbouring frames. */
  joinRatio: number;
  /** How far (px) the object's centre moves across a join, and between other neighbouring frames (NaN where it is not shown). */
  jumpPx: number;
  stepPx: number;
}

export interface ContinuationSummary {
  cases: number;
  /** Frames per chain, and where its windows join. */
  frames: number;
  joins: number[];
  onItsWay: number;
  speed: number;
  shown: number;
  joinRatio: number;
  jumpPx: number;
  stepPx: number;
}

/** Reads one chain: `firstWindow` frames from nothing, then the continued ones, joined at `joins`. */
export function readChain(clip: Clip, asked: Direction, joins: number[], firstWindow: number, vocabulary: Vocabulary): ChainReading {
  const { width: w, height: h, frames } = clip;
  const later = analyseClip({ ...clip, frames: frames.slice(firstWindow) }, vocabulary);
  const lastJoin = joins.at(-1) ?? firstWindow;
  const last = analyseClip({ ...clip, frames: frames.slice(lastJoin) }, vocabulary);
  const shownAt = later.areas.map((n) => n >= SHOWN_PIXELS);

  // Along the asked direction: x for left/right, y for up/down, growing toward the asked edge.
  const along = (c: { x: number; y: number }) => ({ left: -c.x, right: c.x, up: -c.y, down: c.y })[asked];
  const edge = asked === 'left' || asked === 'up' ? 0 : asked === 'right' ? w : h;
  const span = asked === 'left' || asked === 'right' ? w : h;
  // The median step between neighbouring frames that show it whole (an edge clipping it slows its
  // centre). A lap inside the window (out through the asked edge, back in through the other) is
  // one step back by most of the frame: it is no step of the move, but the lap keeps the chain on
  // its way. (A first-to-last difference read such a window as moving backward.)
  const wholeArea = Math.max(SHOWN_PIXELS, WHOLE_SHARE * Math.max(0, ...last.areas));
  const steps: number[] = [];
  let [lapped, before] = [false, -1];
  for (let i = 0; i < last.centres.length; i++) {
    if (last.areas[i]! < SHOWN_PIXELS) continue;
    const step = before >= 0 ? along(last.centres[i]!) - along(last.centres[before]!) : 0;
    if (step <= -span / 2) lapped = true;
    else if (before === i - 1 && last.areas[before]! >= wholeArea && last.areas[i]! >= wholeArea) steps.push(step);
    before = i;
  }
  const speed = steps.length ? median(steps) : 0;

  // Left through the asked edge: the last frame that shows it has it near that edge, and a later
  // frame does not show it.
  const lastShown = shownAt.lastIndexOf(true);
  const centre = lastShown >= 0 ? later.centres[lastShown]! : undefined;
  const nearEdge = centre !== undefined && Math.abs((asked === 'left' || asked === 'right' ? centre.x : centre.y) - edge) <= EDGE_FRACTION * span;
  const left = lastShown >= 0 && lastShown < shownAt.length - 1 && nearEdge;

  const changes = frames.slice(1).map((f, i) => meanAbsDiff(frames[i]!, f));
  const at = (i: number) => joins.includes(i + 1);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const inside = mean(changes.filter((_, i) => !at(i)));
  // The object's own steps: a window that puts it back where its prompt starts it jumps.
  const whole = analyseClip(clip, vocabulary);
  const moves = whole.centres.slice(1).map((c, i) => {
    const p = whole.centres[i]!;
    return whole.areas[i]! >= SHOWN_PIXELS && whole.areas[i + 1]! >= SHOWN_PIXELS ? Math.hypot(c.x - p.x, c.y - p.y) : NaN;
  });
  const known = (xs: number[]) => xs.filter((x) => Number.isFinite(x));
  return {
    onItsWay: last.motion === asked || left || (lapped && speed > 0),
    speed,
    shown: shownAt.filter(Boolean).length / shownAt.length,
    joinRatio: inside > 0 ? mean(changes.filter((_, i) => at(i))) / inside : 1,
    jumpPx: known(moves.filter((_, i) => at(i))).length ? mean(known(moves.filter((_, i) => at(i)))) : NaN,
    stepPx: mean(known(moves.filter((_, i) => !at(i)))),
  };
}

/** Renders and reads a 3-window chain for every case that asks for a direction. */
export async function continueClips(model: VideoModel, cases: EvalCase[], vocabulary: Vocabulary, opts: { seed: number; overlap?: number; strength?: number }): Promise<ContinuationSummary> {
  const window = model.defaults.frames;
  const overlap = opts.overlap ?? 4;
  const frames = window + 2 * (window - overlap);
  const plan = planSegments({ frames, window, overlap, headAvailable: 0, tailAvailable: 0 });
  const joins = plan.slice(1).map((s) => s.start);
  const readings: ChainReading[] = [];
  for (const [i, c] of cases.entries()) {
    if (!DIRECTIONS.includes(c.expect.motion)) continue;
    const chain = await renderChain(model, { prompt: c.prompt, seed: opts.seed + i, frames }, {}, { overlap, window, ...(opts.strength !== undefined && { strength: opts.strength }) });
    readings.push(readChain(chain.takes[0]!.clip, c.expect.motion as Direction, joins, window, vocabulary));
  }
  const mean = (pick: (r: ChainReading) => number) => {
    const xs = readings.map(pick).filter((x) => Number.isFinite(x));
    return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0;
  };
  return {
    cases: readings.length,
    frames,
    joins,
    onItsWay: mean((r) => Number(r.onItsWay)),
    speed: mean((r) => r.speed),
    shown: mean((r) => r.shown),
    joinRatio: mean((r) => r.joinRatio),
    jumpPx: mean((r) => r.jumpPx),
    stepPx: mean((r) => r.stepPx),
  };
}

/** Mean absolute difference of two frames, 0..255. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}
