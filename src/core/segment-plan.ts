import { DailiesError } from '../errors.ts';
import type { Clip } from './ports/video-model.ts';

/**
 * Long renders as chains of model windows. A model makes `window` frames per call; a minute at
 * 8 fps is 480. Past one window the render is a chain of segments, each a temporal inpainting
 * call: known frames at the window's start (the end of what came before) and/or at its end (the
 * start of what comes after), new frames in between. The known frames are what make the joins
 * seamless: the model sees the neighbour's motion and continues it.
 *
 *   forward (no tail, or a tail at the very end: a bridge)
 *     [head known | new .............]  [prev end | new ...........]  [prev end | new | tail known]
 *   backward (tail only: leading into a clip)
 *     rendered from the end towards the start, mirror image of forward.
 *
 * Every segment uses the full window when it can, because models are trained on full windows:
 * the last segment takes more known frames from what it follows (or renders extra new frames that
 * are dropped) rather than shrinking. Pure arithmetic: the worker, the CLI and the core (for
 * "segment k of n") share it.
 */

export interface ChainInput {
  /** New frames to make (>= 1). */
  frames: number;
  /** Frames per model call. */
  window: number;
  /** Known frames carried across each join (>= 1, < window). */
  overlap: number;
  /** Frames of context before the first new frame (a clip being continued, a bridge's `from`); 0 for none. */
  headAvailable: number;
  /** Frames of context after the last new frame (a clip being led into, a bridge's `to`); 0 for none. */
  tailAvailable: number;
}

export interface Segment {
  /** Render order, 0-based. Segment k needs segment k-1's frames as its context. */
  index: number;
  /** Where its new frames go in the run of new frames (0-based, in time order). */
  start: number;
  /** New frames kept from this segment. */
  newFrames: number;
  /** Known frames at the start of the window (taken from what precedes it in time). */
  head: number;
  /** Known frames at the end of the window (taken from what follows it in time). */
  tail: number;
  /** Frames the model renders: head + tail + new frames, plus any dropped ones (`spare`). */
  frames: number;
  /** Index in the window of its first kept new frame. */
  newAt: number;
  /**
   * New frames rendered past what is kept, on the side away from the context (the window's end
   * going forward, its start going backward): a last segment without a tail still renders a full
   * window. Dropped.
   */
  spare: number;
}

/**
 * Where a chain's new frames start (GenerateRequest.known.strength), shared by the worker and the
 * CLI: each new frame from its nearest known frame with the known move carried on, noised for the
 * last 60% of the schedule. Measured on shapes-v1 (test/engine/chain-shapes.test.ts, 10 steps,
 * overlap 4, seeds 1-4), for strength 1 / 0.9 / 0.8 / 0.7 / 0.6, when that start was a still copy
 * of the frame: join ratio (change across a join over change inside) 3.26 / 1.87 / 1.63 / 1.53 /
 * 1.45; backward lead-in error 9.5 / 1.9 / 0.7 / 0.5 / 0.4 px; bridge ends 10.4+9.5 / 8.7+5.4 /
 * 2.6+0.6 / 1.3+0.3 / 0.8+0.2 px, both colours right from 0.7; background flicker of those chains
 * 1.7 / 5.3 / 5.3 / 5.1 / 4.9 (red on black) and 7.8 / 7.3 / 7.3 / 7.2 / 7.1 (yellow on blue),
 * against the eval's 7.17. 0.6: the smallest joins and the least flicker below 1. With the move
 * carried on, 0.6 keeps lead-in and bridge ends under 1 px (models/shapes-v1/MODEL_CARD.md,
 * "Continuing a clip", has both tables). Its costs are shapes-v1's: after the first window the
 * object barely moves (0.00 px a frame carried on, 0.06 with the still start; 0.66 at 1, which
 * steps back at every join).
 */
export const CONTINUATION_STRENGTH = 0.6;

/** The strength a model's chains use: its package's own (the strength measured best for that model), else CONTINUATION_STRENGTH. */
export function continuationStrength(defaults: { continuationStrength?: number }): number {
  return defaults.continuationStrength ?? CONTINUATION_STRENGTH;
}

export type ChainDirection = 'forward' | 'backward';

/** forward unless the only context is after the new frames (extending backward). */
export function chainDirection(input: Pick<ChainInput, 'headAvailable' | 'tailAvailable'>): ChainDirection {
  return input.headAvailable === 0 && input.tailAvailable > 0 ? 'backward' : 'forward';
}

export function planSegments(input: ChainInput): Segment[] {
  const { frames, window, overlap } = input;
  if (!Number.isInteger(frames) || frames < 1) throw new DailiesError('bad_input', `A chain needs at least 1 new frame (got ${frames}).`);
  if (!Number.isInteger(window) || window < 2) throw new DailiesError('bad_input', `A model window must be at least 2 frames (got ${window}).`);
  if (!Number.isInteger(overlap) || overlap < 1 || overlap >= window) {
    throw new DailiesError('bad_input', `The overlap must be a whole number from 1 to ${window - 1} frames (got ${overlap}).`);
  }
  const headAvailable = Math.max(0, Math.floor(input.headAvailable));
  const tailAvailable = Math.max(0, Math.floor(input.tailAvailable));
  if (headAvailable > 0 && tailAvailable > 0 && 2 * Math.min(overlap, headAvailable, tailAvailable) >= window) {
    throw new DailiesError('bad_input', `A bridge needs room for new frames between its known ends: an overlap of ${overlap} on both sides fills the ${window}-frame window; lower the overlap.`);
  }
  if (chainDirection({ headAvailable, tailAvailable }) === 'backward') {
    // The mirror image of a forward chain whose head is the clip being led into.
    return planForward(frames, window, overlap, tailAvailable, 0).map((s) => ({
      ...s,
      start: frames - s.start - s.newFrames,
      head: s.tail,
      tail: s.head,
      newAt: s.spare,
    }));
  }
  return planForward(frames, window, overlap, headAvailable, tailAvailable);
}

function planForward(frames: number, window: number, overlap: number, headAvailable: number, tailAvailable: number): Segment[] {
  const segments: Segment[] = [];
  const tail = Math.min(overlap, tailAvailable);
  let made = 0;
  while (made < frames) {
    const index = segments.length;
    const remaining = frames - made;
    // Context before this segment: the head clip, then everything made so far.
    const before = headAvailable + made;
    const head = Math.min(overlap, before);
    const room = window - head - tail;
    if (remaining <= room) {
      // Last segment: fill the window with more known frames before it when they exist, so the
      // model renders a full window; a chain without a tail renders spare frames instead.
      const extraHead = Math.min(before - head, room - remaining);
      const lastHead = head + extraHead;
      const spare = tail === 0 ? window - lastHead - remaining : 0;
      segments.push({ index, start: made, newFrames: remaining, head: lastHead, tail, frames: lastHead + remaining + spare + tail, spare, newAt: lastHead });
      break;
    }
    // Not the last. A tail belongs to the last segment only: leave it exactly what fills its
    // window beside its known frames (never less than one new frame, since remaining > room).
    const lastRoom = window - overlap - tail;
    const newFrames = Math.min(window - head, tail > 0 ? remaining - lastRoom : remaining);
    // Stopping short for the tail leaves part of the window empty: fill it with known frames too.
    const fullHead = head + Math.min(before - head, window - head - newFrames);
    segments.push({ index, start: made, newFrames, head: fullHead, tail: 0, frames: fullHead + newFrames, spare: 0, newAt: fullHead });
    made += newFrames;
  }
  return segments;
}

/**
 * Frames of lookback a chain gives each window beyond its known ones (GenerateRequest.known
 * earlier / later), read below strength 1 to carry on what moved. Four known frames forget an
 * object that left more than four frames ago, and show one coming back at an edge only as a
 * clipped fragment: what carries it on is the last frame that showed it whole. An object ~12 px
 * wide moving ~1 px a frame on a 32-px frame (shapes-v1's) takes ~12 frames from that frame to
 * gone, and carried on is back through the other edge within ~45 (a lap: frame + object + 1).
 * So the lookback must reach past the exit (~12 frames) and the new frames of the window after
 * it (12 at window 16, overlap 4). And an object's speed is taken from frames where no edge clips
 * it (the clipped frames of an exit and a re-entry misread it): on such a lap the object touches
 * an edge for ~28 frames, and the last 9 frames clear of both edges were up to ~50 back. With 32
 * frames shapes-v2's minute-long chains found none at about one join in two and slowed to 0.5 px
 * a frame by the third lap; 64 keep ~1 px a frame for ten laps. shapes-v1 brings its circle back
 * in slowly and stuck to the edge: from the last frame clear of the edges to the first one clear
 * again took it up to ~90 frames, and with 64 half of its minute-long chains (8 of 16) stood the
 * circle still for good after a lap; with 128, 4 of 16, and none with carried motion's rule for
 * an object standing just inside its entry edge (which needs the 128), at the same chain time. Frames
 * further back cost time (measureMotion reads every frame; a latent model VAE-encodes each) and
 * hold motion too old to carry. At most MAX_LOOKBACK_FRAMES (models/engine/request-schema.ts).
 */
export const LOOKBACK_FRAMES = 128;

/**
 * How many lookback frames a segment gets when `before` / `after` frames exist around it in
 * time (its known frames included): up to LOOKBACK_FRAMES beyond its head, and beyond its tail,
 * fewer where the context runs out, none on a side without known frames (a lookback goes with
 * its side's known frames; on a side without them the chain has not made the frames yet).
 */
export function segmentLookback(segment: Pick<Segment, 'head' | 'tail'>, before: number, after: number): { earlier: number; later: number } {
  const beyond = (known: number, available: number) => (known > 0 ? Math.max(0, Math.min(LOOKBACK_FRAMES, available - known)) : 0);
  return { earlier: beyond(segment.head, before), later: beyond(segment.tail, after) };
}

/** A segment's known frames and its lookback beyond them, each side in time order (segmentKnown). */
export interface KnownCut {
  head: Uint8Array[];
  tail: Uint8Array[];
  /** Up to LOOKBACK_FRAMES frames just before `head`; none without a head. */
  earlier: Uint8Array[];
  /** Up to LOOKBACK_FRAMES frames just after `tail`; none without a tail. */
  later: Uint8Array[];
}

/**
 * A segment's known frames, cut from the frames around it in time: the last `head` frames of
 * `before` (the clip being continued, then what the chain made so far) and the first `tail`
 * frames of `after`, with the lookback beyond them (segmentLookback). Throws when the context is
 * shorter than the plan assumed.
 */
export function segmentKnown(segment: Segment, before: readonly Uint8Array[], after: readonly Uint8Array[]): KnownCut {
  if (before.length < segment.head || after.length < segment.tail) {
    throw new DailiesError('internal', `Segment ${segment.index + 1} needs ${segment.head} frames before it and ${segment.tail} after, but has ${before.length} and ${after.length}; re-plan the chain.`);
  }
  const { earlier, later } = segmentLookback(segment, before.length, after.length);
  const headAt = before.length - segment.head;
  return {
    head: before.slice(headAt),
    tail: after.slice(0, segment.tail),
    earlier: before.slice(headAt - earlier, headAt),
    later: after.slice(segment.tail, segment.tail + later),
  };
}

/** The new frames a segment keeps from the model's window (known and spare frames dropped). */
export function keptFrames(segment: Segment, rendered: Pick<Clip, 'frames'>): Uint8Array[] {
  if (rendered.frames.length !== segment.frames) {
    throw new DailiesError('internal', `Segment ${segment.index + 1} was planned as ${segment.frames} frames but the model returned ${rendered.frames.length}.`);
  }
  return rendered.frames.slice(segment.newAt, segment.newAt + segment.newFrames);
}

/** One frame beside a join: where it is in the run, the window's rendering of it, and how to fade into that. */
export interface JoinFade {
  /** Position in the run's new frames (negative, or past the end: a context clip's, never faded). */
  at: number;
  /** The window's own rendering of that frame (the engine returns known frames as the model finished them). */
  fresh: Uint8Array;
  /** Frames from the join (1: right beside it), and how many known frames the window had on that side. */
  distance: number;
  span: number;
}

/**
 * Every known frame of a segment's window as a JoinFade: its head (before the new frames) and
 * its tail (after them). The CLI's chain and the workers' segments fade the ones they made.
 */
export function joinFades(segment: Segment, rendered: Pick<Clip, 'frames'>): JoinFade[] {
  const end = segment.newAt + segment.newFrames;
  const head = rendered.frames.slice(segment.newAt - segment.head, segment.newAt);
  const tail = rendered.frames.slice(end, end + segment.tail);
  return [
    ...head.map((fresh, i) => ({ at: segment.start - segment.head + i, fresh, distance: segment.head - i, span: segment.head })),
    ...tail.map((fresh, i) => ({ at: segment.start + segment.newFrames + i, fresh, distance: i + 1, span: segment.tail })),
  ];
}

/**
 * A join without a step. A frame the chain made, `distance` frames from a join (1: right beside
 * it), cross-faded into the next window's rendering of the same frame (`fresh`, joinFades): the
 * nearer the join, the more of the window's. The change across the join is spread over the `span`
 * known frames instead of falling between two frames. Measured on shapes-v1 (40-frame chains,
 * seeds 1-4, test/engine/chain-shapes.test.ts): the change across a join over the change inside
 * fell from 1.45 to 1.18 (red circle on black) and from 1.01 to 0.86 (yellow square on blue).
 * Only frames the chain made itself are faded; a clip being extended or bridged keeps its own.
 */
export function fadeAtJoin(old: Uint8Array, fresh: Uint8Array, distance: number, span: number): Uint8Array {
  const w = 1 - distance / (span + 1);
  const out = new Uint8Array(old.length);
  for (let k = 0; k < old.length; k++) out[k] = Math.round((1 - w) * old[k]! + w * fresh[k]!);
  return out;
}

/**
 * The segments of an n-segment chain that show a preview besides segment 1: one at each quarter.
 * A minute is 40 segments; a preview of each would bury the thread. The worker renders previews
 * only for these, and delivery posts only these.
 */
export function chainPreviewSegments(segments: number): Set<number> {
  return new Set([0.25, 0.5, 0.75, 1].map((f) => Math.max(2, Math.ceil(segments * f))));
}

/**
 * Seed of segment k: a new stretch of noise for each segment (the same noise in every window would
 * repeat its patterns along the video), offset from the base seed so that take i, seeded base + i,
 * is still the take rendered alone, and segment 0 is the plain render. The CLI's chains and the
 * worker's use this one function, so both render the same noise from the same seed.
 */
export function segmentSeed(seed: number, k: number): number {
  return (seed + k * 7919) >>> 0;
}
