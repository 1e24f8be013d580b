import type { SchedulerConfig } from '../manifest.ts';
import type { Scheduler } from './scheduler.ts';
import { addNoise, alphaCumprodAt, alphasCumprod, dpmSolverTimesteps, keepForStrength, predictOriginal, timestepAt } from './noise-schedule.ts';

interface Point {
  alpha: number;
  sigma: number;
  lambda: number;
}

/**
 * DPM-Solver++(2M) (Lu et al. 2022, arXiv 2211.01095, algorithm 2) as diffusers runs it with
 * algorithm_type "dpmsolver++", solver_order 2, solver_type "midpoint", final_sigmas_type "zero".
 * Discrete time: alpha = sqrt(abar_t), sigma = sqrt(1 - abar_t), lambda = log(alpha / sigma).
 *
 * Step order: first-order (DDIM) on the first step, since there is no history yet, second-order
 * after that, and first-order on the last step, which therefore lands exactly on the model's x0
 * (sigma = 0). diffusers' lower_order_final rule (first order at the end when steps < 15) is thus
 * always in effect here: with a zero final sigma diffusers uses it for any step count.
 */
export class DpmSolverMultistepScheduler implements Scheduler {
  readonly initNoiseSigma = 1;
  readonly stochastic = false;
  private readonly table: Float64Array;
  private list: number[] = [];
  /** The previous step's x0 estimate; second-order steps extrapolate from it. */
  private previous: { index: number; lambda: number; x0: Float64Array } | undefined;

  constructor(readonly config: SchedulerConfig) {
    this.table = alphasCumprod(config);
  }

  get timesteps(): readonly number[] {
    return this.list;
  }

  setTimesteps(steps: number, strength = 1): void {
    this.list = keepForStrength(dpmSolverTimesteps(this.config, steps), strength);
    this.reset();
  }

  reset(): void {
    this.previous = undefined;
  }

  step(modelOutput: Float32Array, index: number, sample: Float32Array): { prevSample: Float32Array; predictedOriginal: Float32Array } {
    const s = this.point(timestepAt(this.list, index));
    // A new loop starting at index 0 must not reuse the last loop's history.
    if (index === 0) this.previous = undefined;
    if (this.previous && this.previous.index !== index - 1) {
      throw new Error(`DPM-Solver++ steps must run in order: got index ${index} after ${this.previous.index}; call reset() to restart`);
    }
    const x0 = predictOriginal(this.config.predictionType, modelOutput, sample, s.alpha, s.sigma);
    const next = this.list[index + 1];
    const prevSample = next === undefined ? Float32Array.from(x0) : this.update(sample, x0, s, this.point(next));
    this.previous = { index, lambda: s.lambda, x0 };
    return { prevSample, predictedOriginal: Float32Array.from(x0) };
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoise(this.table, original, noise, timestep);
  }

  private point(timestep: number): Point {
    const abar = alphaCumprodAt(this.table, timestep);
    const alpha = Math.sqrt(abar);
    const sigma = Math.sqrt(1 - abar);
    return { alpha, sigma, lambda: Math.log(alpha) - Math.log(sigma) };
  }

  /** From point s to point t: x_t = (sigma_t / sigma_s) x_s - alpha_t (e^-h - 1) D. */
  private update(sample: Float32Array, x0: Float64Array, s: Point, t: Point): Float32Array {
    const h = t.lambda - s.lambda;
    const ratio = t.sigma / s.sigma;
    const phi = t.alpha * Math.expm1(-h);
    const prev = this.previous;
    // Midpoint: D = x0 + (x0 - x0_prev) / (2 r), r = h_prev / h; with no history D = x0.
    const k = prev ? h / (2 * (s.lambda - prev.lambda)) : 0;
    const out = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const d = prev ? x0[i]! + k * (x0[i]! - prev.x0[i]!) : x0[i]!;
      out[i] = ratio * sample[i]! - phi * d;
    }
    return out;
  }
}
