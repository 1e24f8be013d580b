import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../../models/engine/manifest.ts';
import {
  alphasCumprod,
  createScheduler,
  ddimTimesteps,
  dpmSolverTimesteps,
  type SchedulerName,
} from '../../models/engine/schedulers/index.ts';
import { roundHalfEven } from '../../models/engine/schedulers/noise-schedule.ts';

// Numbers from fixtures/scheduler_reference.py (numpy, float64, written from the papers and
// diffusers' documented definitions). Regenerate: /usr/bin/python3 test/engine/fixtures/scheduler_reference.py
type Schedule = SchedulerConfig['betaSchedule'];
type Spacing = SchedulerConfig['timestepSpacing'];
type Prediction = SchedulerConfig['predictionType'];
interface Reference {
  schedules: Record<Schedule, { config: Pick<SchedulerConfig, 'betaSchedule' | 'betaStart' | 'betaEnd'>; at: number[]; alphasCumprod: number[] }>;
  timesteps: { family: 'ddim' | 'dpm'; spacing: Spacing; stepsOffset: number; steps: number; timesteps: number[] }[];
  ddim: {
    schedule: Schedule; spacing: Spacing; stepsOffset: number; steps: number; predictionType: Prediction; setAlphaToOne: boolean;
    index: number; timestep: number; sample: number[]; modelOutput: number[]; prevSample: number[]; predictedOriginal: number[];
  }[];
  dpmpp2m: {
    schedule: Schedule; spacing: Spacing; stepsOffset: number; steps: number; predictionType: Prediction; timesteps: number[];
    sample: number[]; modelOutputs: number[][]; results: { prevSample: number[]; predictedOriginal: number[] }[];
  }[];
  ddpm: {
    schedule: Schedule; spacing: Spacing; stepsOffset: number; steps: number; predictionType: Prediction;
    index: number; timestep: number; sample: number[]; modelOutput: number[]; noise: number[]; prevSample: number[]; predictedOriginal: number[];
  }[];
}
const ref = JSON.parse(readFileSync(new URL('./fixtures/scheduler-reference.json', import.meta.url), 'utf8')) as Reference;

const BETAS: Record<Schedule, Pick<SchedulerConfig, 'betaStart' | 'betaEnd'>> = {
  linear: { betaStart: 0.0001, betaEnd: 0.02 },
  scaled_linear: { betaStart: 0.00085, betaEnd: 0.012 },
  squaredcos_cap_v2: { betaStart: 0.0001, betaEnd: 0.02 },
};

function config(over: Partial<SchedulerConfig> & { betaSchedule?: Schedule } = {}): SchedulerConfig {
  const betaSchedule = over.betaSchedule ?? 'scaled_linear';
  return {
    numTrainTimesteps: 1000,
    betaSchedule,
    ...BETAS[betaSchedule],
    predictionType: 'epsilon',
    timestepSpacing: 'leading',
    stepsOffset: 0,
    setAlphaToOne: true,
    default: 'dpmpp-2m',
    ...over,
  };
}

/** Tensors are O(1): tolerance is 1e-5 relative to max(1, |expected|). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Math.abs(a - e) > tol * Math.max(1, Math.abs(e))) {
      expect.fail(`element ${i}: got ${a}, expected ${e} (tolerance ${tol})`);
    }
  }
}

/** Small deterministic normal samples (mulberry32 + Box-Muller). */
function normals(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()));
}

describe('noise schedule', () => {
  for (const [name, entry] of Object.entries(ref.schedules)) {
    it(`alphas_cumprod for ${name}`, () => {
      const table = alphasCumprod(config(entry.config));
      expect(table.length).toBe(1000);
      entry.at.forEach((t, i) => {
        expect(Math.abs(table[t]! - entry.alphasCumprod[i]!)).toBeLessThanOrEqual(1e-9 * entry.alphasCumprod[i]!);
      });
    });
  }

  it('rounds halves to even like numpy', () => {
    expect([0.5, 1.5, 2.5, 812.5, 937.5, 2.4999, -1.5].map(roundHalfEven)).toEqual([0, 2, 2, 812, 938, 2, -2]);
  });

  for (const entry of ref.timesteps) {
    const { family, spacing, stepsOffset, steps } = entry;
    it(`${family} timesteps: ${spacing}, offset ${stepsOffset}, ${steps} steps`, () => {
      const select = family === 'ddim' ? ddimTimesteps : dpmSolverTimesteps;
      expect(select(config({ timestepSpacing: spacing, stepsOffset }), steps)).toEqual(entry.timesteps);
    });
  }

  it('each scheduler uses its own family of grids', () => {
    const c = config({ timestepSpacing: 'linspace' });
    const ddim = createScheduler('ddim', c);
    const dpm = createScheduler('dpmpp-2m', c);
    ddim.setTimesteps(10);
    dpm.setTimesteps(10);
    expect(ddim.timesteps).toEqual(ddimTimesteps(c, 10));
    expect(dpm.timesteps).toEqual(dpmSolverTimesteps(c, 10));
  });

  it('refuses step counts it cannot lay out', () => {
    const c = config();
    expect(() => ddimTimesteps(c, 0)).toThrow(RangeError);
    expect(() => ddimTimesteps(c, 1001)).toThrow(RangeError);
    expect(() => ddimTimesteps(c, 2.5)).toThrow(RangeError);
    expect(() => dpmSolverTimesteps(c, 1000)).toThrow(/distinct/);
  });
});

describe('strength', () => {
  for (const name of ['ddim', 'dpmpp-2m'] as const) {
    it(`${name}: strength 0.5 keeps the cleaner half of the timesteps`, () => {
      const s = createScheduler(name, config({ timestepSpacing: 'trailing' }));
      s.setTimesteps(10);
      const all = [...s.timesteps];
      s.setTimesteps(10, 0.5);
      expect(s.timesteps).toEqual(all.slice(5));
      s.setTimesteps(7, 0.5);
      expect(s.timesteps).toHaveLength(4); // round(3.5), as the interface documents
      s.setTimesteps(10, 0.01);
      expect(s.timesteps).toEqual(all.slice(9));
      expect(() => s.setTimesteps(10, 0)).toThrow(RangeError);
      expect(() => s.setTimesteps(10, 1.5)).toThrow(RangeError);
    });
  }
});

describe('addNoise', () => {
  for (const name of ['ddim', 'dpmpp-2m'] as const) {
    it(`${name}: sqrt(abar) x0 + sqrt(1 - abar) noise`, () => {
      const c = config({ betaSchedule: 'linear' });
      const s = createScheduler(name, c);
      const table = alphasCumprod(c);
      const x0 = normals(16, 1);
      const noise = normals(16, 2);
      for (const t of [0, 37, 500, 999]) {
        const a = table[t]!;
        const expected = x0.map((x, i) => Math.sqrt(a) * x + Math.sqrt(1 - a) * noise[i]!);
        expectClose(s.addNoise(x0, noise, t), expected, 1e-6);
      }
      expect(() => s.addNoise(x0, noise, 1000)).toThrow(RangeError);
      expect(() => s.addNoise(x0, noise.subarray(1), 10)).toThrow(RangeError);
    });
  }
});

describe('DDIM against the reference', () => {
  for (const c of ref.ddim) {
    it(`${c.predictionType}, index ${c.index} (t=${c.timestep}), setAlphaToOne ${c.setAlphaToOne}`, () => {
      const s = createScheduler(
        'ddim',
        config({ betaSchedule: c.schedule, timestepSpacing: c.spacing, stepsOffset: c.stepsOffset, predictionType: c.predictionType }),
        { setAlphaToOne: c.setAlphaToOne },
      );
      s.setTimesteps(c.steps);
      expect(s.timesteps[c.index]).toBe(c.timestep);
      const out = s.step(Float32Array.from(c.modelOutput), c.index, Float32Array.from(c.sample));
      expectClose(out.prevSample, c.prevSample);
      expectClose(out.predictedOriginal, c.predictedOriginal);
    });
  }
});

describe('DDPM against the reference', () => {
  for (const c of ref.ddpm) {
    it(`${c.predictionType}, ${c.schedule}, ${c.spacing}, index ${c.index} of ${c.steps} (t=${c.timestep})`, () => {
      const s = createScheduler('ddpm', config({ betaSchedule: c.schedule, timestepSpacing: c.spacing, stepsOffset: c.stepsOffset, predictionType: c.predictionType }));
      s.setTimesteps(c.steps);
      expect(s.timesteps[c.index]).toBe(c.timestep);
      const out = s.step(Float32Array.from(c.modelOutput), c.index, Float32Array.from(c.sample), Float32Array.from(c.noise));
      expectClose(out.prevSample, c.prevSample);
      expectClose(out.predictedOriginal, c.predictedOriginal);
    });
  }

  it('needs fresh noise of the sample\'s size on every step but the last, and ignores it there', () => {
    const s = createScheduler('ddpm', config());
    expect(s.stochastic).toBe(true);
    s.setTimesteps(3);
    const x = Float32Array.from([0.5, -0.5]);
    expect(() => s.step(x, 0, x)).toThrow(/fresh noise: pass 2 standard normal values to step 0/);
    expect(() => s.step(x, 0, x, new Float32Array(1))).toThrow(/pass 2/);
    expect(s.step(x, 2, x).prevSample).toEqual(s.step(x, 2, x, Float32Array.from([9, 9])).prevSample);
  });

  it('with a model that knows x0, every estimate is x0 and the last step lands on it, whatever noise is added', () => {
    const x0 = normals(64, 7).map((v) => Math.tanh(v));
    const c = config({ betaSchedule: 'squaredcos_cap_v2', timestepSpacing: 'trailing', predictionType: 'v_prediction' });
    const table = alphasCumprod(c);
    const s = createScheduler('ddpm', c);
    s.setTimesteps(10);
    let x = s.addNoise(x0, normals(64, 8), s.timesteps[0]!);
    s.timesteps.forEach((t, i) => {
      const a = Math.sqrt(table[t]!);
      const sg = Math.sqrt(1 - table[t]!);
      // The noise in x as it is now (fresh noise changed it): v = a eps - sg x0, eps = (x - a x0) / sg.
      const v = x0.map((x0j, j) => (a * (x[j]! - a * x0j)) / sg - sg * x0j);
      const out = s.step(v, i, x, normals(64, 100 + i));
      expectClose(out.predictedOriginal, x0, 1e-3);
      x = out.prevSample;
    });
    expectClose(x, x0, 1e-3);
  });
});

describe('DPM-Solver++ 2M against the reference', () => {
  for (const c of ref.dpmpp2m) {
    it(`${c.predictionType}, ${c.schedule}, ${c.spacing}, ${c.steps} steps: first ${c.results.length}`, () => {
      const s = createScheduler(
        'dpmpp-2m',
        config({ betaSchedule: c.schedule, timestepSpacing: c.spacing, stepsOffset: c.stepsOffset, predictionType: c.predictionType }),
      );
      s.setTimesteps(c.steps);
      expect(s.timesteps).toEqual(c.timesteps);
      let sample: Float32Array = Float32Array.from(c.sample);
      c.results.forEach((expected, i) => {
        const out = s.step(Float32Array.from(c.modelOutputs[i]!), i, sample);
        expectClose(out.predictedOriginal, expected.predictedOriginal);
        expectClose(out.prevSample, expected.prevSample);
        sample = out.prevSample;
      });
    });
  }

  it('history restarts at index 0 and out-of-order steps are refused', () => {
    const c = ref.dpmpp2m.find((r) => r.steps === 10 && r.predictionType === 'epsilon')!;
    const s = createScheduler('dpmpp-2m', config({ betaSchedule: c.schedule, timestepSpacing: c.spacing, stepsOffset: c.stepsOffset }));
    s.setTimesteps(c.steps);
    const outputs = c.modelOutputs.map((o) => Float32Array.from(o));
    const x = Float32Array.from(c.sample);
    const first = s.step(outputs[0]!, 0, x);
    s.step(outputs[1]!, 1, first.prevSample);
    // A second loop without reset(): step 0 must again be first order.
    expectClose(s.step(outputs[0]!, 0, x).prevSample, c.results[0]!.prevSample);
    expect(() => s.step(outputs[1]!, 2, x)).toThrow(/in order/);
    s.reset();
    expect(() => s.step(outputs[1]!, 5, x)).not.toThrow();
  });
});

describe('perfect oracle recovers x0', () => {
  const x0 = normals(64, 7).map((v) => Math.tanh(v));
  const noise = normals(64, 8);
  // The cosine schedule's abar(999) = 2.4e-9 turns float32 rounding of the sample into ~1e-3 of x0
  // error for an epsilon model, so it is exercised on the leading grid, which stops at t = 900.
  const cases: [Schedule, Spacing][] = [
    ['linear', 'leading'], ['linear', 'trailing'], ['linear', 'linspace'],
    ['scaled_linear', 'leading'], ['scaled_linear', 'trailing'], ['scaled_linear', 'linspace'],
    ['squaredcos_cap_v2', 'leading'],
  ];
  for (const name of ['ddim', 'dpmpp-2m'] as SchedulerName[]) {
    for (const predictionType of ['epsilon', 'v_prediction'] as const) {
      for (const [betaSchedule, timestepSpacing] of cases) {
        for (const [steps, strength] of [[10, 1], [7, 1], [25, 0.5]] as const) {
          it(`${name}, ${predictionType}, ${betaSchedule}, ${timestepSpacing}, ${steps} steps, strength ${strength}`, () => {
            const c = config({ betaSchedule, timestepSpacing, predictionType, stepsOffset: timestepSpacing === 'leading' ? 1 : 0 });
            const table = alphasCumprod(c);
            const s = createScheduler(name, c);
            s.setTimesteps(steps, strength);
            const ts = s.timesteps;
            let x = s.addNoise(x0, noise, ts[0]!);
            ts.forEach((t, i) => {
              const a = Math.sqrt(table[t]!);
              const sg = Math.sqrt(1 - table[t]!);
              const output = predictionType === 'epsilon' ? noise : x0.map((v, j) => a * noise[j]! - sg * v);
              const out = s.step(output, i, x);
              expectClose(out.predictedOriginal, x0, 1e-4);
              // Exact solvers for this model: every step lands on the forward process's own sample.
              const next = ts[i + 1];
              expectClose(out.prevSample, next === undefined ? x0 : s.addNoise(x0, noise, next), 1e-4);
              x = out.prevSample;
            });
          });
        }
      }
    }
  }

  it('DDIM with setAlphaToOne false ends on abar_0, not on x0', () => {
    const c = config({ stepsOffset: 1 });
    const s = createScheduler('ddim', c, { setAlphaToOne: false });
    s.setTimesteps(10);
    let x = s.addNoise(x0, noise, s.timesteps[0]!);
    s.timesteps.forEach((_, i) => {
      x = s.step(noise, i, x).prevSample;
    });
    expectClose(x, s.addNoise(x0, noise, 0), 1e-5);
    expect(Math.max(...x.map((v, i) => Math.abs(v - x0[i]!)))).toBeGreaterThan(1e-3);
  });
});

describe('createScheduler', () => {
  it('builds each and rejects unknown names', () => {
    expect(createScheduler('ddim', config()).initNoiseSigma).toBe(1);
    expect(createScheduler('dpmpp-2m', config()).initNoiseSigma).toBe(1);
    expect(createScheduler('ddpm', config()).stochastic).toBe(true);
    expect([createScheduler('ddim', config()).stochastic, createScheduler('dpmpp-2m', config()).stochastic]).toEqual([false, false]);
    expect(() => createScheduler('euler' as SchedulerName, config())).toThrow(/unknown scheduler/);
  });

  it('step before setTimesteps explains itself', () => {
    const s = createScheduler('ddim', config());
    expect(() => s.step(new Float32Array(2), 0, new Float32Array(2))).toThrow(/setTimesteps/);
  });
});
