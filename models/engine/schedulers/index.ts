import type { SchedulerConfig } from '../manifest.ts';
import { DdimScheduler, type DdimOptions } from './ddim.ts';
import { DpmSolverMultistepScheduler } from './dpm-solver-multistep.ts';
import type { Scheduler } from './scheduler.ts';

export type { Scheduler } from './scheduler.ts';
export { DdimScheduler, type DdimOptions } from './ddim.ts';
export { DpmSolverMultistepScheduler } from './dpm-solver-multistep.ts';
export { alphasCumprod, betas, ddimTimesteps, dpmSolverTimesteps } from './noise-schedule.ts';

export type SchedulerName = 'ddim' | 'dpmpp-2m';

/** `options` only reaches DDIM: DPM-Solver++ always ends on sigma = 0. */
export function createScheduler(name: SchedulerName, config: SchedulerConfig, options: DdimOptions = {}): Scheduler {
  switch (name) {
    case 'ddim':
      return new DdimScheduler(config, options);
    case 'dpmpp-2m':
      return new DpmSolverMultistepScheduler(config);
    default:
      // Names can arrive from requests and manifests as plain strings.
      throw new Error(`unknown scheduler: ${String(name)}`);
  }
}
