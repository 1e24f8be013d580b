import { describe, expect, it } from 'vitest';
import { chainDirection, LOOKBACK_FRAMES, planSegments, segmentKnown, segmentLookback, type ChainInput, type KnownCut, type Segment } from '../../src/core/segment-plan.ts';

/** Every new frame is made exactly once, every window fits the model, every join has known frames. */
function checkPlan(input: ChainInput, plan: Segment[]): void {
  const covered = new Array<number>(input.frames).fill(0);
  for (const s of plan) {
    expect(s.frames).toBeLessThanOrEqual(input.window);
    expect(s.head + s.newFrames + s.spare + s.tail).toBe(s.frames);
    expect(s.newAt).toBe(s.tail > 0 && s.head === 0 ? s.spare : s.head);
    expect(s.newFrames).toBeGreaterThanOrEqual(1);
    for (let f = s.start; f < s.start + s.newFrames; f++) covered[f]!++;
  }
  expect(covered.every((n) => n === 1)).toBe(true);
}

describe('planSegments', () => {
  it('keeps a render that fits one window as one segment of the whole window', () => {
    const plan = planSegments({ frames: 16, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 0 });
    expect(plan).toEqual([{ index: 0, start: 0, newFrames: 16, head: 0, tail: 0, frames: 16, spare: 0, newAt: 0 }]);
  });

  it('chains a minute at 8 fps into full windows joined by the overlap', () => {
    const input = { frames: 480, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 0 };
    const plan = planSegments(input);
    checkPlan(input, plan);
    expect(plan[0]).toMatchObject({ head: 0, newFrames: 16 });
    // 16 + 38 x 12 = 472, then 8 left: the last window takes 8 known frames instead of 4.
    expect(plan).toHaveLength(40);
    expect(plan.slice(1, -1).every((s) => s.head === 4 && s.newFrames === 12 && s.frames === 16)).toBe(true);
    expect(plan.at(-1)).toMatchObject({ start: 472, newFrames: 8, head: 8, frames: 16, spare: 0 });
  });

  it('continues a clip forward from its last frames', () => {
    const input = { frames: 20, window: 16, overlap: 4, headAvailable: 16, tailAvailable: 0 };
    const plan = planSegments(input);
    checkPlan(input, plan);
    expect(plan.map((s) => [s.start, s.head, s.newFrames])).toEqual([[0, 4, 12], [12, 8, 8]]);
  });

  it('renders spare frames when the context is too short to fill the last window', () => {
    const plan = planSegments({ frames: 3, window: 16, overlap: 4, headAvailable: 4, tailAvailable: 0 });
    expect(plan).toEqual([{ index: 0, start: 0, newFrames: 3, head: 4, tail: 0, frames: 16, spare: 9, newAt: 4 }]);
  });

  it('extends backward from the end towards the start, each window leading into the next', () => {
    const input = { frames: 20, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 16 };
    expect(chainDirection(input)).toBe('backward');
    const plan = planSegments(input);
    checkPlan(input, plan);
    expect(plan.map((s) => [s.start, s.newFrames, s.head, s.tail, s.newAt])).toEqual([[8, 12, 0, 4, 0], [0, 8, 0, 8, 0]]);
    const spare = planSegments({ frames: 3, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 4 });
    expect(spare).toEqual([{ index: 0, start: 0, newFrames: 3, head: 0, tail: 4, frames: 16, spare: 9, newAt: 9 }]);
  });

  it('bridges two clips with known frames at both ends of the last window', () => {
    const input = { frames: 8, window: 16, overlap: 4, headAvailable: 16, tailAvailable: 16 };
    const plan = planSegments(input);
    checkPlan(input, plan);
    expect(plan).toEqual([{ index: 0, start: 0, newFrames: 8, head: 4, tail: 4, frames: 16, spare: 0, newAt: 4 }]);
  });

  it('chains a long bridge and puts the tail only on its last segment', () => {
    const input = { frames: 30, window: 16, overlap: 4, headAvailable: 16, tailAvailable: 16 };
    const plan = planSegments(input);
    checkPlan(input, plan);
    expect(plan.slice(0, -1).every((s) => s.tail === 0)).toBe(true);
    expect(plan.at(-1)!.tail).toBe(4);
    // Models are trained on full windows (the built-in one accepts only 16 frames).
    expect(plan.every((s) => s.frames === 16)).toBe(true);
    const shortInput = { frames: 10, window: 16, overlap: 4, headAvailable: 16, tailAvailable: 16 };
    const short = planSegments(shortInput);
    checkPlan(shortInput, short);
    expect(short.map((s) => [s.newFrames, s.head, s.spare, s.tail, s.frames])).toEqual([[2, 14, 0, 0, 16], [8, 4, 0, 4, 16]]);
  });

  it('refuses impossible chains with one sentence', () => {
    expect(() => planSegments({ frames: 0, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 0 })).toThrow(/at least 1 new frame/);
    expect(() => planSegments({ frames: 8, window: 16, overlap: 16, headAvailable: 0, tailAvailable: 0 })).toThrow(/overlap must be/);
    expect(() => planSegments({ frames: 8, window: 8, overlap: 4, headAvailable: 8, tailAvailable: 8 })).toThrow(/lower the overlap/);
  });
});

/**
 * Every segment's known frames and lookback as a chain cuts them (models/engine/chain.ts): the
 * context before the new frames at times -headAvailable..-1, the new frames 0..frames-1 (each
 * there only once its segment has run), the context after from `frames` on. Frames as times.
 */
function chainCuts(input: ChainInput): { segment: Segment; cut: Record<keyof KnownCut, (number | undefined)[]> }[] {
  const times = new Map<Uint8Array, number>();
  const frame = (t: number) => {
    const f = new Uint8Array(1);
    times.set(f, t);
    return f;
  };
  const span = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => frame(from + i));
  const before = span(-input.headAvailable, 0);
  const after = span(input.frames, input.frames + input.tailAvailable);
  const made = new Array<Uint8Array>(input.frames);
  return planSegments(input).map((segment) => {
    const cut = segmentKnown(segment, [...before, ...made.slice(0, segment.start)], [...made.slice(segment.start + segment.newFrames), ...after]);
    made.splice(segment.start, segment.newFrames, ...span(segment.start, segment.start + segment.newFrames));
    const asTimes = (frames: Uint8Array[]) => frames.map((f) => (f ? times.get(f) : undefined));
    return { segment, cut: { head: asTimes(cut.head), tail: asTimes(cut.tail), earlier: asTimes(cut.earlier), later: asTimes(cut.later) } };
  });
}

const times = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('segmentKnown', () => {
  it('gives no lookback at the start of a chain, then up to LOOKBACK_FRAMES before the head', () => {
    const cuts = chainCuts({ frames: 480, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 0 });
    expect(cuts[0]!.cut).toEqual({ head: [], tail: [], earlier: [], later: [] });
    // Segment 2 (new frames from 16) follows 16 frames: 4 known, the 12 before them as lookback.
    expect(cuts[1]!.cut).toEqual({ head: times(12, 16), tail: [], earlier: times(0, 12), later: [] });
    // Segment 13 (new frames from 148): 4 known, then the LOOKBACK_FRAMES (128) before them, not all 144.
    expect(cuts[12]!.segment.start).toBe(148);
    expect(cuts[12]!.cut).toEqual({ head: times(144, 148), tail: [], earlier: times(144 - LOOKBACK_FRAMES, 144), later: [] });
    // Mid chain every window reads exactly the LOOKBACK_FRAMES frames before its known ones.
    for (const { segment, cut } of cuts.filter(({ segment }) => segment.start - segment.head >= LOOKBACK_FRAMES)) expect(cut.earlier).toEqual(times(segment.start - segment.head - LOOKBACK_FRAMES, segment.start - segment.head));
  });

  it('reads the lookback of a continued clip from the clip, as far as it goes', () => {
    const long = chainCuts({ frames: 20, window: 16, overlap: 4, headAvailable: 200, tailAvailable: 0 });
    expect(long[0]!.cut).toEqual({ head: times(-4, 0), tail: [], earlier: times(-4 - LOOKBACK_FRAMES, -4), later: [] });
    // Segment 2's lookback runs from the clip into the chain's own frames.
    expect(long[1]!.cut.earlier).toEqual(times(4 - LOOKBACK_FRAMES, 4));
    const short = chainCuts({ frames: 20, window: 16, overlap: 4, headAvailable: 6, tailAvailable: 0 });
    expect(short[0]!.cut).toEqual({ head: times(-4, 0), tail: [], earlier: [-6, -5], later: [] });
  });

  it('reads a backward chain\'s lookback after its tail, and nothing before its empty head', () => {
    const cuts = chainCuts({ frames: 60, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 16 });
    // The window next to the clip: its first 4 frames known, the other 12 of it as lookback.
    expect(cuts[0]!.cut).toEqual({ head: [], tail: times(60, 64), earlier: [], later: times(64, 76) });
    // Further from a longer clip: LOOKBACK_FRAMES after the tail, the chain's own and then the clip's.
    const { segment, cut } = chainCuts({ frames: 60, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 160 })[2]!;
    const end = segment.start + segment.newFrames;
    expect(cut).toEqual({ head: [], tail: times(end, end + 4), earlier: [], later: times(end + 4, end + 4 + LOOKBACK_FRAMES) });
    expect(cuts.every(({ cut }) => cut.earlier.length === 0 && cut.later.every((t) => t !== undefined))).toBe(true);
  });

  it('reads both lookbacks at a bridge\'s last window, and none after a tail-less segment', () => {
    const cuts = chainCuts({ frames: 30, window: 16, overlap: 4, headAvailable: 16, tailAvailable: 40 });
    // Before the last segment the frames after the window are not made yet: no tail, no lookback.
    expect(cuts.slice(0, -1).every(({ cut }) => cut.tail.length === 0 && cut.later.length === 0)).toBe(true);
    const last = cuts.at(-1)!;
    const headAt = last.segment.start - last.segment.head;
    // Both as far as the clips go: 16 frames before the chain, 40 after it.
    expect(last.cut).toEqual({ head: times(headAt, last.segment.start), tail: times(30, 34), earlier: times(-16, headAt), later: times(34, 70) });
  });

  it('counts the lookback from what exists, and none for a side without known frames', () => {
    expect(segmentLookback({ head: 4, tail: 0 }, 200, 200)).toEqual({ earlier: LOOKBACK_FRAMES, later: 0 });
    expect(segmentLookback({ head: 4, tail: 4 }, 10, 4)).toEqual({ earlier: 6, later: 0 });
    expect(segmentLookback({ head: 0, tail: 8 }, 50, 20)).toEqual({ earlier: 0, later: 12 });
  });
});
