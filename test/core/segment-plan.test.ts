import { describe, expect, it } from 'vitest';
import { chainDirection, planSegments, type ChainInput, type Segment } from '../../src/core/segment-plan.ts';

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
