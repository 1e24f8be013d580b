import { describe, expect, it } from 'vitest';
import { FINAL_STEP_FACTOR, decodeShape, encodeShape, workUnits } from '../../src/queue/job-cost.ts';
import { estimateFinishAll, estimateFinishMs, withOwnDuration } from '../../src/queue/pool-stats.ts';

describe('ETA estimate', () => {
  it('is one job duration for the head of an idle pool', () => {
    expect(estimateFinishMs(1, [], 2, 1000)).toBe(1000);
  });

  it('waits for the slot that frees first', () => {
    // Two slots busy for 200 ms and 900 ms more; position 1 starts at 200.
    expect(estimateFinishMs(1, [800, 100], 2, 1000)).toBe(1200);
    expect(estimateFinishMs(2, [800, 100], 2, 1000)).toBe(1900);
    expect(estimateFinishMs(3, [800, 100], 2, 1000)).toBe(2200);
  });

  it('grows one duration per slot-count of jobs ahead', () => {
    expect(estimateFinishAll(6, [], 2, 100)).toEqual([100, 100, 200, 200, 300, 300]);
  });

  it('treats overdue renders as finishing now', () => {
    expect(estimateFinishMs(1, [5000], 1, 1000)).toBe(1000);
  });
});

describe('ETA with the job\'s own size', () => {
  it('starts when the simulation says and then takes its own time', () => {
    // Head of an idle pool, average 1000 ms, this job expected to take 2500 ms.
    expect(withOwnDuration(estimateFinishMs(1, [], 2, 1000), 1000, 2500)).toBe(2500);
    // Third in line on two slots: starts at 1000, takes 400.
    expect(withOwnDuration(estimateFinishMs(3, [], 2, 1000), 1000, 400)).toBe(1400);
    expect(withOwnDuration(1234, 1000, null)).toBe(1234);
  });
});

describe('work units', () => {
  const scale = { steps: 10, frames: 16 };
  it('counts takes x steps x frames, with the model defaults and the finalize factor', () => {
    expect(workUnits({ takes: 1, quality: 'draft' }, scale)).toBe(160);
    expect(workUnits({ takes: 4, quality: 'draft' }, scale)).toBe(640);
    expect(workUnits({ takes: 1, quality: 'final' }, scale)).toBe(160 * FINAL_STEP_FACTOR);
    expect(workUnits({ takes: 2, quality: 'final', steps: 30, frames: 8 }, scale)).toBe(2 * 30 * 8);
  });

  it('round-trips the compact shape kept in the bookkeeping, and rejects junk', () => {
    for (const shape of [{ takes: 3, quality: 'draft' as const }, { takes: 1, quality: 'final' as const, steps: 25, frames: 24 }]) {
      expect(decodeShape(encodeShape(shape))).toEqual(shape);
    }
    expect(decodeShape('')).toBeNull();
    expect(decodeShape(null)).toBeNull();
    expect(decodeShape('3:x:0:d')).toBeNull();
  });
});
