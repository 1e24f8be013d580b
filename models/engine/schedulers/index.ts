import type { SchedulerConfig } from '../manifest.ts';
import { DdimScheduler, type DdimOptions } from './ddim.ts';
import { DpmSolverMultistepScheduler } from './dpm-solver-multistep.ts';
import type { SchedulerName } from './names.ts';
import type { Scheduler } from './scheduler.ts';

export type { Scheduler } from './scheduler.ts';
export { DdimScheduler, type DdimOptions } from './ddim.ts';
export { DpmSolverMultistepScheduler } from './dpm-solver-multistep.ts';
export { alphasCumprod, betas, ddimTimesteps, dpmSolverTimesteps } from './noise-schedule.ts';

export { SCHEDULER_NAMES, type SchedulerName } from './names.ts';

/** `options` only reaches DDIM: DPM-Solver++ and DDPM always end on sigma = 0. */
export function createScheduler(name: SchedulerName, config: SchedulerConfig, options: DdimOptions = {}): Scheduler {
  switch (name) {
    case 'ddim':
      return new DdimScheduler(config, options);
    case 'dpmpp-2m':
      return new DpmSolverMultistepScheduler(config);
    case 'ddpm':
      // Ancestral DDPM is DDIM with eta 1; it always lands on the clean sample.
      return new DdimScheduler(config, { eta: 1, setAlphaToOne: true });
    default:
      // Names can arrive from requests and manifests as plain strings.
      throw new Error(`unknown scheduler: ${String(name)}`);
  }
}
