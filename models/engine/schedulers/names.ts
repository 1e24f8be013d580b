/** The engine's schedulers, as requests and manifests name them (one file each beside this one). */
export const SCHEDULER_NAMES = ['ddim', 'dpmpp-2m', 'ddpm'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];
