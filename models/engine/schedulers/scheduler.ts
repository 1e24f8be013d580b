import type { SchedulerConfig } from '../manifest.ts';

/**
 * A sampler over a discrete-time diffusion process (diffusers' conventions: integer training
 * timesteps 0..T-1, alphas_cumprod from the beta schedule). Tensors are flat Float32Arrays of one
 * batch; the scheduler never looks at their shape. One algorithm per file.
 */
export interface Scheduler {
  readonly config: SchedulerConfig;
  /** Training timesteps to visit, from noisiest to cleanest, set by `setTimesteps`. */
  readonly timesteps: readonly number[];
  /**
   * Chooses `steps` timesteps per `config.timestepSpacing`. `strength` in (0,1] keeps only the
   * last round(steps*strength) of them (image-to-video starts part-way down).
   */
  setTimesteps(steps: number, strength?: number): void;
  /**
   * Whether each step but the last adds fresh noise (ancestral sampling). The caller then passes
   * `noise`, standard normal and the sample's size, to `step`, drawn from the request's seed.
   */
  readonly stochastic: boolean;
  /** One update from the model output at `timesteps[index]`; returns x_{t-1} and the predicted x0. */
  step(modelOutput: Float32Array, index: number, sample: Float32Array, noise?: Float32Array): { prevSample: Float32Array; predictedOriginal: Float32Array };
  /** q(x_t | x_0): sqrt(abar_t) * original + sqrt(1 - abar_t) * noise, for training timestep t. */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array;
  /** Standard deviation of the initial noise (1 for every scheduler here). */
  readonly initNoiseSigma: number;
  /** Forget multistep history so the instance can run a new sampling loop. */
  reset(): void;
}
