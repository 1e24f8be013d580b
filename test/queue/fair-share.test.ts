import { describe, expect, it } from 'vitest';
import { computeBands, dispatchOrder, type FairJob } from '../../src/queue/fair-share.ts';

let seq = 0;
function job(userId: string, channelKey = 'c1'): FairJob {
  seq++;
  return { jobId: `${userId}-${seq}`, userId, channelKey, seq };
}

/**
 * Runs the pool as BullMQ would: `workers` slots, every job lasting one tick; at each tick the
 * finished jobs leave, bands are recomputed, and free slots take the lowest (band, seq).
 * `arrivals[t]` are enqueued at tick t. Returns job ids in start order.
 */
function simulate(arrivals: FairJob[][], workers: number, mode: 'fair' | 'fifo' = 'fair'): string[] {
  const started: string[] = [];
  let waiting: FairJob[] = [];
  let active: FairJob[] = [];
  for (let tick = 0; tick < 1000 && (tick < arrivals.length || waiting.length || active.length); tick++) {
    active = [];
    waiting.push(...(arrivals[tick] ?? []));
    const bands = computeBands([...waiting, ...active], mode);
    const next = dispatchOrder(waiting, bands).slice(0, workers);
    for (const j of next) {
      active.push(j);
      started.push(j.jobId);
    }
    waiting = waiting.filter((j) => !next.includes(j));
  }
  return started;
}

describe('fair-share bands', () => {
  it("puts a newcomer's first job ahead of a flooder's backlog", () => {
    const a = Array.from({ length: 20 }, () => job('A'));
    const b = job('B');
    const bands = computeBands([...a, b]);
    expect(bands.get(b.jobId)).toBe(2);
    expect(bands.get(a[0]!.jobId)).toBe(1);
    // Two of A's jobs run; among the waiting ones B goes first.
    const order = dispatchOrder([...a.slice(2), b], computeBands([...a, b]));
    expect(order[0]).toBe(b);
  });

  it('starts B within the first wave with 2 workers (A: 20 jobs, then B: 1)', () => {
    const a = Array.from({ length: 20 }, () => job('A'));
    const b = job('B');
    // A's jobs arrive first and two start; B arrives one tick later.
    const order = simulate([a, [b]], 2);
    expect(order.indexOf(b.jobId)).toBeLessThanOrEqual(3);
    const fifo = simulate([a, [b]], 2, 'fifo');
    expect(fifo.indexOf(b.jobId)).toBe(20);
  });

  it('serves people round robin within a channel', () => {
    const jobs = [job('A'), job('A'), job('A'), job('B'), job('B'), job('C')];
    const order = dispatchOrder(jobs, computeBands(jobs)).map((j) => j.userId);
    expect(order).toEqual(['A', 'B', 'C', 'A', 'B', 'A']);
  });

  it('keeps a busy channel from starving a quiet one', () => {
    const busy = Array.from({ length: 30 }, (_, i) => job(`u${i}`, 'busy'));
    const quiet = job('q', 'quiet');
    const order = dispatchOrder([...busy, quiet], computeBands([...busy, quiet]));
    expect(order.indexOf(quiet)).toBe(1);
  });

  it('counts running jobs: someone with a render running waits behind someone with none', () => {
    const a1 = job('A');
    const a2 = job('A');
    const b1 = job('B');
    // a1 is running; a2 and b1 wait.
    const order = dispatchOrder([a2, b1], computeBands([a1, a2, b1]));
    expect(order).toEqual([b1, a2]);
  });

  it('is first-in-first-out in fifo mode', () => {
    const jobs = [job('A'), job('A'), job('B')];
    expect(dispatchOrder(jobs, computeBands(jobs, 'fifo'))).toEqual(jobs);
  });

  it('moves a flooder back up as their jobs finish', () => {
    const a = [job('A'), job('A'), job('A')];
    const b = [job('B'), job('B')];
    expect(computeBands([...a, ...b]).get(a[2]!.jobId)).toBe(5);
    // a[0] and b[0] finished
    expect(computeBands([a[1]!, a[2]!, b[1]!]).get(a[2]!.jobId)).toBe(3);
  });
});
