import { renderChain } from '../engine/chain.ts';
import { planSegments } from '../../src/core/segment-plan.ts';
import { borderColour, type Rgb } from '../../src/core/background-anchor.ts';
import type { Clip, VideoModel } from '../../src/core/ports/video-model.ts';
import { median, objectMask } from './analyse-clip.ts';
import { meanAbsDiff, type Direction } from './continuation.ts';

/**
 * How a model holds up over a minute-long chain, the length `/video … duration:60` renders: for
 * "a red circle moving <way> on a black background" in each of the four directions, a 60-s chain
 * (the CLI's and the workers' chain at its defaults), read back from the pixels. A chain that
 * still looks like one continuous video keeps showing its object at the size and speed of its
 * first window, takes it out through the edge it moves toward and brings it back, joins its
 * windows without a jump, and keeps its background.
 */

export const LONG_CHAIN_SECONDS = 60;
export const LONG_CHAIN_WAYS: readonly Direction[] = ['right', 'left', 'up', 'down'];

export interface LongChainReading {
  /** Share of the frames that show the object (at least a quarter of its first-window size). */
  shown: number;
  /** The object's median area in the last quarter of the chain over its first window's (frames that show it whole). */
  sizeKept: number;
  /** Its median step along the asked way in the last quarter over the first window's (NaN when the first window did not move it). */
  speedKept: number;
  /** Times it came back in through the edge opposite the asked way. */
  laps: number;
  /** Mean change across the joins over the mean change between other neighbouring frames. */
  joinRatio: number;
  /** Median RGB distance of a frame's border colour from the first frame's, over the last quarter. */
  backgroundShift: number;
}

export interface LongChainSummary extends LongChainReading {
  chains: number;
  seconds: number;
  frames: number;
}

interface Sighting {
  area: number;
  /** Centre along the asked way (grows toward the exit edge). */
  along: number;
  /** Whether the object's pixels touch an edge of the frame. */
  atEdge: boolean;
}

function sight(frame: Uint8Array, w: number, h: number, background: Rgb, asked: Direction): Sighting {
  const mask = objectMask(frame, w * h, background);
  let [area, sx, sy, minX, minY, maxX, maxY] = [0, 0, 0, w, h, -1, -1];
  for (let p = 0; p < w * h; p++) {
    if (!mask[p]) continue;
    const [x, y] = [p % w, Math.floor(p / w)];
    area++;
    sx += x + 0.5;
    sy += y + 0.5;
    [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
  }
  const [cx, cy] = [sx / Math.max(area, 1), sy / Math.max(area, 1)];
  const along = { right: cx, left: w - cx, down: cy, up: h - cy }[asked];
  return { area, along, atEdge: minX === 0 || minY === 0 || maxX === w - 1 || maxY === h - 1 };
}

/** Reads one long chain of "moving `asked`", its first window `window` frames, joined at `joins`. */
export function readLongChain(clip: Clip, asked: Direction, joins: number[], window: number): LongChainReading {
  const { width: w, height: h, frames } = clip;
  const span = asked === 'left' || asked === 'right' ? w : h;
  const background = borderColour(frames[0]!, w, h);
  const seen = frames.map((f) => sight(f, w, h, background, asked));
  // 1. The first window's object: its size where no edge clips it.
  const first = seen.slice(0, window);
  const whole = (s: Sighting) => s.area > 0 && !s.atEdge;
  const reference = median((first.some(whole) ? first.filter(whole) : first.filter((s) => s.area > 0)).map((s) => s.area)) || 1;
  const shown = seen.map((s) => s.area >= Math.max(4, reference / 4));
  // 2. Size and speed now against then, over frames that show it whole.
  const lastQuarter = Math.floor((frames.length * 3) / 4);
  const wholeAreas = seen.slice(lastQuarter).filter((s, i) => whole(s) && shown[lastQuarter + i]).map((s) => s.area);
  const steps = (from: number, to: number) => {
    const out: number[] = [];
    for (let i = Math.max(from, 1); i < to; i++) if (whole(seen[i]!) && whole(seen[i - 1]!) && shown[i] && shown[i - 1]) out.push(seen[i]!.along - seen[i - 1]!.along);
    return out;
  };
  const firstSpeed = median(steps(0, window));
  const lastSpeed = steps(lastQuarter, frames.length);
  // 3. Laps: seen last in the third of the frame toward the exit edge, next in the third it
  //    comes in from (one that turned back would cross the middle third first).
  let laps = 0;
  let lastThird = -1;
  for (let i = 0; i < seen.length; i++) {
    if (!shown[i]) continue;
    const third = Math.min(2, Math.max(0, Math.floor((3 * seen[i]!.along) / span)));
    if (lastThird === 2 && third === 0) laps++;
    lastThird = third;
  }
  // 4. Joins against the rest, and the background against the first frame's.
  const changes = frames.slice(1).map((f, i) => meanAbsDiff(frames[i]!, f));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const across = changes.filter((_, i) => joins.includes(i + 1));
  const inside = mean(changes.filter((_, i) => !joins.includes(i + 1)));
  const shifts = frames.slice(lastQuarter).map((f) => {
    const c = borderColour(f, w, h);
    return Math.hypot(c[0] - background[0], c[1] - background[1], c[2] - background[2]);
  });
  return {
    shown: shown.filter(Boolean).length / frames.length,
    sizeKept: wholeAreas.length ? median(wholeAreas) / reference : 0,
    speedKept: firstSpeed > 0.05 ? (lastSpeed.length ? median(lastSpeed) : 0) / firstSpeed : NaN,
    laps,
    joinRatio: inside > 0 ? mean(across) / inside : 1,
    backgroundShift: median(shifts),
  };
}

/** Renders and reads a LONG_CHAIN_SECONDS chain for each of LONG_CHAIN_WAYS. */
export async function longChains(model: VideoModel, opts: { seed: number; strength?: number; seconds?: number; signal?: AbortSignal }): Promise<LongChainSummary> {
  const window = model.defaults.frames;
  const overlap = 4;
  const seconds = opts.seconds ?? LONG_CHAIN_SECONDS;
  const frames = Math.round(seconds * model.defaults.fps);
  const joins = planSegments({ frames, window, overlap, headAvailable: 0, tailAvailable: 0 }).slice(1).map((s) => s.start);
  const readings: LongChainReading[] = [];
  for (const [i, way] of LONG_CHAIN_WAYS.entries()) {
    const prompt = `a red circle moving ${way} on a black background`;
    const chain = await renderChain(model, { prompt, seed: opts.seed + i, frames }, {}, { overlap, window, ...(opts.strength !== undefined && { strength: opts.strength }), ...(opts.signal && { signal: opts.signal }) });
    readings.push(readLongChain(chain.takes[0]!.clip, way, joins, window));
  }
  const mean = (pick: (r: LongChainReading) => number) => {
    const xs = readings.map(pick).filter((x) => Number.isFinite(x));
    return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
  };
  return {
    chains: readings.length,
    seconds,
    frames,
    shown: mean((r) => r.shown),
    sizeKept: mean((r) => r.sizeKept),
    speedKept: mean((r) => r.speedKept),
    laps: mean((r) => r.laps),
    joinRatio: mean((r) => r.joinRatio),
    backgroundShift: mean((r) => r.backgroundShift),
  };
}
