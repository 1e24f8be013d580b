import type { SchedulerConfig } from '../manifest.ts';

/*
 * The discrete variance-preserving process shared by every scheduler, with diffusers' definitions:
 * x_t = sqrt(abar_t) * x0 + sqrt(1 - abar_t) * noise for integer t in 0..T-1.
 * Everything is float64 here; diffusers keeps betas and alphas_cumprod in float32, so values agree
 * with it to roughly 1e-6 relative, not bit for bit.
 */

/** numpy rounds halves to even; timestep grids hit exact halves (e.g. linspace(0, 999, 11)[5]). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy.linspace, same arithmetic (start + i * step, end pinned) so ties round the same way. */
function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

export function betas(config: SchedulerConfig): Float64Array {
  const { numTrainTimesteps: n, betaStart, betaEnd } = config;
  switch (config.betaSchedule) {
    case 'linear':
      return Float64Array.from(linspace(betaStart, betaEnd, n));
    case 'scaled_linear':
      return Float64Array.from(linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), n), (b) => b * b);
    case 'squaredcos_cap_v2': {
      // GLIDE's cosine schedule, discretised as betas so that it ends in a finite beta.
      const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      return Float64Array.from({ length: n }, (_, i) => Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999));
    }
  }
}

export function alphasCumprod(config: SchedulerConfig): Float64Array {
  const out = betas(config);
  let product = 1;
  for (let i = 0; i < out.length; i++) {
    product *= 1 - out[i]!;
    out[i] = product;
  }
  return out;
}

function checkSteps(config: SchedulerConfig, steps: number): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > config.numTrainTimesteps) {
    throw new RangeError(`steps must be an integer in 1..${config.numTrainTimesteps}, got ${steps}`);
  }
}

/** Near steps = T some grids repeat a timestep (h = 0 in a solver step); refuse rather than divide by zero. */
function distinct(timesteps: number[]): number[] {
  if (timesteps.some((t, i) => i > 0 && t >= timesteps[i - 1]!)) {
    throw new RangeError(`${timesteps.length} steps do not give distinct timesteps with this spacing`);
  }
  return timesteps;
}

/** Trailing grid shared by both families: round(arange(T, 0, -T/n)) - 1. */
function trailing(total: number, steps: number): number[] {
  // numpy's float arange fills start + i * ((start + step) - start); copied so ties round alike.
  // numpy can also emit one extra element (~0, hence timestep -1) for some n (T=1000: 61, 103...);
  // taking exactly `steps` values drops it.
  const delta = total + -total / steps - total;
  return Array.from({ length: steps }, (_, i) => roundHalfEven(total + i * delta) - 1);
}

/** DDIMScheduler.set_timesteps: noisiest first. */
export function ddimTimesteps(config: SchedulerConfig, steps: number): number[] {
  checkSteps(config, steps);
  return distinct(ddimGrid(config, steps));
}

function ddimGrid(config: SchedulerConfig, steps: number): number[] {
  const total = config.numTrainTimesteps;
  switch (config.timestepSpacing) {
    case 'leading': {
      const ratio = Math.floor(total / steps);
      return Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio + config.stepsOffset);
    }
    case 'trailing':
      return trailing(total, steps);
    case 'linspace':
      return linspace(0, total - 1, steps).map(roundHalfEven).reverse();
  }
}

/**
 * DPMSolverMultistepScheduler.set_timesteps (lambda_min_clipped = -inf). Unlike DDIM, "leading"
 * and "linspace" lay out steps + 1 points and drop the cleanest one (t = 0), because the solver's
 * own last step goes to sigma = 0 rather than to a timestep.
 */
export function dpmSolverTimesteps(config: SchedulerConfig, steps: number): number[] {
  checkSteps(config, steps);
  return distinct(dpmSolverGrid(config, steps));
}

function dpmSolverGrid(config: SchedulerConfig, steps: number): number[] {
  const total = config.numTrainTimesteps;
  switch (config.timestepSpacing) {
    case 'leading': {
      const ratio = Math.floor(total / (steps + 1));
      return Array.from({ length: steps }, (_, i) => (steps - i) * ratio + config.stepsOffset);
    }
    case 'trailing':
      return trailing(total, steps);
    case 'linspace':
      return linspace(0, total - 1, steps + 1).map(roundHalfEven).reverse().slice(0, steps);
  }
}

/** Image-to-video starts part-way down: keep the last round(steps * strength) timesteps. */
export function keepForStrength(timesteps: number[], strength = 1): number[] {
  if (!(strength > 0 && strength <= 1)) throw new RangeError(`strength must be in (0, 1], got ${strength}`);
  const keep = Math.max(1, Math.round(timesteps.length * strength));
  return timesteps.slice(timesteps.length - keep);
}

/** abar at a timestep the model was trained on. */
export function alphaCumprodAt(table: Float64Array, timestep: number): number {
  const value = Number.isInteger(timestep) ? table[timestep] : undefined;
  if (value === undefined) throw new RangeError(`timestep must be an integer in 0..${table.length - 1}, got ${timestep}`);
  return value;
}

export function addNoise(table: Float64Array, original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
  sameLength(original, noise);
  const abar = alphaCumprodAt(table, timestep);
  const a = Math.sqrt(abar);
  const s = Math.sqrt(1 - abar);
  const out = new Float32Array(original.length);
  for (let i = 0; i < out.length; i++) out[i] = a * original[i]! + s * noise[i]!;
  return out;
}

/**
 * The model's estimate of x0 from its output at a point with signal scale `alpha` = sqrt(abar)
 * and noise scale `sigma` = sqrt(1 - abar). Float64 so multistep history keeps full precision.
 */
export function predictOriginal(
  type: SchedulerConfig['predictionType'],
  modelOutput: Float32Array,
  sample: Float32Array,
  alpha: number,
  sigma: number,
): Float64Array {
  sameLength(modelOutput, sample);
  // Plain loops: TypedArray.from with a map callback took ~4 ms per step for one built-in-model
  // take (49k values), a quarter of the denoiser call itself.
  const x0 = new Float64Array(sample.length);
  if (type === 'epsilon') {
    for (let i = 0; i < x0.length; i++) x0[i] = (sample[i]! - sigma * modelOutput[i]!) / alpha;
  } else {
    for (let i = 0; i < x0.length; i++) x0[i] = alpha * sample[i]! - sigma * modelOutput[i]!;
  }
  return x0;
}

export function sameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`tensor lengths differ: ${a.length} vs ${b.length}`);
}

/** The timestep to run at `index`, or a clear error if setTimesteps was skipped or the index is off. */
export function timestepAt(timesteps: readonly number[], index: number): number {
  const t = Number.isInteger(index) ? timesteps[index] : undefined;
  if (t === undefined) {
    throw new RangeError(
      timesteps.length === 0 ? 'call setTimesteps before step' : `index must be in 0..${timesteps.length - 1}, got ${index}`,
    );
  }
  return t;
}
