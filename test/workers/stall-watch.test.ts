import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StallWatch } from '../../workers/stall-watch.ts';

describe('StallWatch', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('never fires while signs of life keep coming, however long the render', () => {
    const stalls: number[] = [];
    const watch = new StallWatch(1_000, (idle) => stalls.push(idle));
    for (let i = 0; i < 100; i++) {
      vi.advanceTimersByTime(900);
      watch.touch();
    }
    expect(stalls).toEqual([]);
    watch.stop();
  });

  it('fires once, soon after the timeout, when they stop', () => {
    const stalls: number[] = [];
    const watch = new StallWatch(1_000, (idle) => stalls.push(idle));
    vi.advanceTimersByTime(500);
    watch.touch();
    vi.advanceTimersByTime(999);
    expect(stalls).toEqual([]);
    vi.advanceTimersByTime(250);
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toBeGreaterThanOrEqual(1_000);
    expect(stalls[0]).toBeLessThanOrEqual(1_250);
    vi.advanceTimersByTime(10_000);
    expect(stalls).toHaveLength(1);
  });

  it('stays quiet once stopped', () => {
    const stalls: number[] = [];
    const watch = new StallWatch(1_000, (idle) => stalls.push(idle));
    watch.stop();
    vi.advanceTimersByTime(10_000);
    expect(stalls).toEqual([]);
  });
});
