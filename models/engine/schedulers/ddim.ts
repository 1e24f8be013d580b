import type { SchedulerConfig } from '../manifest.ts';
import type { Scheduler } from './scheduler.ts';
import { addNoise, alphaCumprodAt, alphasCumprod, ddimTimesteps, keepForStrength, predictOriginal, timestepAt } from './noise-schedule.ts';

export interface DdimOptions {
  /**
   * What the last step lands on. true: abar = 1, a clean sample, diffusers' DDIMScheduler default
   * (and what a pixel model trained with the default config expects). false: abar_0, as Stable
   * Diffusion configs ship it (together with stepsOffset 1), leaving a trace of t = 0 noise.
   */
  setAlphaToOne?: boolean;
}

/**
 * Deterministic DDIM (eta = 0; Song et al. 2020, eq. 12):
 * x_prev = sqrt(abar_prev) * x0_hat + sqrt(1 - abar_prev) * eps_hat.
 *
 * The target of each step is the next timestep in the list, then the final abar. diffusers instead
 * steps to t - T // steps; that is the same point for "leading" and for "trailing" when steps
 * divides T, but falls between grid points for "linspace" (and off by one for uneven "trailing"),
 * so the next call would see a sample at a noise level it was not told about.
 */
export class DdimScheduler implements Scheduler {
  readonly initNoiseSigma = 1;
  readonly stochastic = false;
  private readonly table: Float64Array;
  private readonly finalAlphaCumprod: number;
  private list: number[] = [];

  constructor(
    readonly config: SchedulerConfig,
    options: DdimOptions = {},
  ) {
    this.table = alphasCumprod(config);
    this.finalAlphaCumprod = (options.setAlphaToOne ?? config.setAlphaToOne ?? true) ? 1 : this.table[0]!;
  }

  get timesteps(): readonly number[] {
    return this.list;
  }

  setTimesteps(steps: number, strength = 1): void {
    this.list = keepForStrength(ddimTimesteps(this.config, steps), strength);
  }

  step(modelOutput: Float32Array, index: number, sample: Float32Array): { prevSample: Float32Array; predictedOriginal: Float32Array } {
    const abar = alphaCumprodAt(this.table, timestepAt(this.list, index));
    const next = this.list[index + 1];
    const abarPrev = next === undefined ? this.finalAlphaCumprod : alphaCumprodAt(this.table, next);
    const alpha = Math.sqrt(abar);
    const sigma = Math.sqrt(1 - abar);
    const x0 = predictOriginal(this.config.predictionType, modelOutput, sample, alpha, sigma);
    const alphaPrev = Math.sqrt(abarPrev);
    const sigmaPrev = Math.sqrt(1 - abarPrev);
    const prevSample = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      // The noise estimate, whatever the model predicts: for v, eps = alpha * v + sigma * x.
      const eps = this.config.predictionType === 'epsilon' ? m : alpha * m + sigma * x;
      prevSample[i] = alphaPrev * x0[i]! + sigmaPrev * eps;
    }
    return { prevSample, predictedOriginal: Float32Array.from(x0) };
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoise(this.table, original, noise, timestep);
  }

  /** DDIM keeps no history between steps. */
  reset(): void {}
}
