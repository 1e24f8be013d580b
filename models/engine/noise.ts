/*
 * Seeded Gaussian noise. The generator is xoshiro128** (Blackman & Vigna, "Scrambled linear
 * pseudorandom number generators", 2018): 128 bits of state, period 2^128 - 1, all 32-bit integer
 * arithmetic, so the integer stream is identical on every JS engine. Its state is filled from the
 * seed by a Weyl sequence passed through MurmurHash3's 32-bit finaliser, which spreads nearby
 * seeds (7, 8, 9 ...) to unrelated states. Normals come from Box–Muller; Math.log/cos/sin are not
 * specified bit-for-bit across engines, so noise is reproducible on the same machine and Node
 * build, and agrees elsewhere to within a few ulps.
 *
 * Each take draws from its own generator (seed + i), so take i of a batch gets exactly the noise
 * it would get rendered alone with that seed.
 */

export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed`: any safe integer; the high and low 32 bits both reach the state. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    let weyl = (lo ^ fmix32(hi ^ 0x5bd1e995)) >>> 0;
    const next = (): number => {
      weyl = (weyl + 0x9e3779b9) >>> 0;
      return fmix32(weyl);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // The all-zero state is the generator's one fixed point.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator at an explicit state (the published test vectors start from one). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Xoshiro128 {
    const rng = new Xoshiro128(0);
    rng.s0 = s0 >>> 0;
    rng.s1 = s1 >>> 0;
    rng.s2 = s2 >>> 0;
    rng.s3 = s3 >>> 0;
    return rng;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Standard normal samples from one seed, drawn in order: the start noise of a take, then the
 * fresh noise a stochastic scheduler adds at each step. Each `next` call uses whole Box–Muller
 * pairs (an odd count drops its last spare), so the first `next(n)` is `gaussianNoise(seed, n)`.
 */
export class GaussianStream {
  private readonly rng: Xoshiro128;

  constructor(seed: number) {
    this.rng = new Xoshiro128(seed);
  }

  /** Writes `count` samples into `out` from `offset` (a new array of `count` when none is given). */
  next(count: number, out = new Float32Array(count), offset = 0): Float32Array {
    for (let i = 0; i < count; i += 2) {
      // u1 in (0, 1] keeps log finite; u2 in [0, 1).
      const u1 = (this.rng.nextUint32() + 1) / 2 ** 32;
      const u2 = this.rng.nextUint32() / 2 ** 32;
      const r = Math.sqrt(-2 * Math.log(u1));
      out[offset + i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < count) out[offset + i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
    return out;
  }
}

/** `count` standard normal samples for `seed`. */
export function gaussianNoise(seed: number, count: number): Float32Array {
  return new GaussianStream(seed).next(count);
}

/**
 * Noise for a batch of takes: take i draws from its own stream, seeded seed + i, `perTake` values
 * per call, concatenated. The first call is the start noise; later calls (a stochastic scheduler's
 * per-step noise) continue each take's stream, so take i of a batch gets exactly the noise it
 * would get rendered alone with that seed, at every step.
 */
export class BatchNoise {
  private readonly streams: GaussianStream[];

  constructor(
    seed: number,
    takes: number,
    private readonly perTake: number,
  ) {
    this.streams = Array.from({ length: takes }, (_, i) => new GaussianStream(seed + i));
  }

  next(): Float32Array {
    const out = new Float32Array(this.streams.length * this.perTake);
    for (const [i, stream] of this.streams.entries()) stream.next(this.perTake, out, i * this.perTake);
    return out;
  }
}
