import { describe, expect, it } from 'vitest';
import { estimateFinishAll, estimateFinishMs } from '../../src/queue/pool-stats.ts';

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
