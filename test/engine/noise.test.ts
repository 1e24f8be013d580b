import { describe, expect, it } from 'vitest';
import { BatchNoise, gaussianNoise, GaussianStream, Xoshiro128 } from '../../models/engine/noise.ts';

describe('seeded noise', () => {
  it('is xoshiro128** (reference outputs from state 1, 2, 3, 4)', () => {
    const rng = Xoshiro128.fromState(1, 2, 3, 4);
    expect(Array.from({ length: 6 }, () => rng.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('keeps the integer stream of a seed fixed (changing it would change every seed\'s video)', () => {
    const rng = new Xoshiro128(0);
    expect(Array.from({ length: 4 }, () => rng.nextUint32())).toEqual(FIRST_OF_SEED_0);
  });

  it('is identical for the same seed and different for neighbouring seeds', () => {
    const a = gaussianNoise(1234, 1001);
    expect(Buffer.from(a.buffer).equals(Buffer.from(gaussianNoise(1234, 1001).buffer))).toBe(true);
    const b = gaussianNoise(1235, 1001);
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
    expect(same).toBe(0);
  });

  it('uses the high bits of large seeds', () => {
    expect(gaussianNoise(2 ** 32 + 5, 8)).not.toEqual(gaussianNoise(5, 8));
  });

  it('is standard normal', () => {
    const n = 200_000;
    const x = gaussianNoise(7, n);
    let sum = 0;
    let sq = 0;
    let tail = 0;
    for (const v of x) {
      sum += v;
      sq += v * v;
      if (Math.abs(v) > 1.96) tail++;
    }
    const mean = sum / n;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(sq / n - mean * mean - 1)).toBeLessThan(0.01);
    expect(Math.abs(tail / n - 0.05)).toBeLessThan(0.003);
  });

  it('gives take i of a batch the noise of seed + i alone, at the start and at every later draw', () => {
    const batch = new BatchNoise(40, 3, 257);
    const [start, step] = [batch.next(), batch.next()];
    for (let i = 0; i < 3; i++) {
      const alone = new GaussianStream(40 + i);
      expect(start.subarray(i * 257, (i + 1) * 257)).toEqual(gaussianNoise(40 + i, 257));
      alone.next(257);
      expect(step.subarray(i * 257, (i + 1) * 257)).toEqual(alone.next(257));
    }
    expect(step.subarray(0, 257)).not.toEqual(start.subarray(0, 257));
  });
});

// Recorded from this implementation; xoshiro128** seeded through the documented fmix32 Weyl sequence.
const FIRST_OF_SEED_0 = [2878344405, 1338088672, 4239054466, 163235784];
