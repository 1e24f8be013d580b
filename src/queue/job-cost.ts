import type { RenderJob } from '../core/ports/job-queue.ts';

/**
 * How much work a render is, so an ETA can tell a 4-take finalize from a 1-take draft.
 *
 * Work units are takes x denoising steps x frames: a batched call costs about linearly in its
 * batch, and a step in its frames. Workers record milliseconds per unit of what they rendered;
 * the producer turns a waiting job into units with the defaults of the model the pool runs
 * (published by the workers), since a request leaves steps and frames to the model unless set.
 */

/** A finalize render samples this many times the model's default steps (unless steps are set). */
export const FINAL_STEP_FACTOR = 2;

/** What a job asks for, as far as its cost goes. */
export type JobShape = Pick<RenderJob['request'], 'takes' | 'steps' | 'frames' | 'quality'>;

/** The defaults of the model the pool renders with. */
export interface ModelScale {
  steps: number;
  frames: number;
}

export function stepsFor(shape: Pick<JobShape, 'steps' | 'quality'>, defaultSteps: number): number {
  return shape.steps ?? (shape.quality === 'final' ? defaultSteps * FINAL_STEP_FACTOR : defaultSteps);
}

export function workUnits(shape: JobShape, scale: ModelScale): number {
  return shape.takes * stepsFor(shape, scale.steps) * (shape.frames ?? scale.frames);
}

/** Compact form kept in the fair-share bookkeeping ("takes:steps:frames:quality", 0 = model default). */
export function encodeShape(shape: JobShape): string {
  return `${shape.takes}:${shape.steps ?? 0}:${shape.frames ?? 0}:${shape.quality === 'final' ? 'f' : 'd'}`;
}

export function decodeShape(text: string | null | undefined): JobShape | null {
  const m = /^(\d+):(\d+):(\d+):([fd])$/.exec(text ?? '');
  if (!m) return null;
  const shape: JobShape = { takes: Number(m[1]), quality: m[4] === 'f' ? 'final' : 'draft' };
  if (Number(m[2]) > 0) shape.steps = Number(m[2]);
  if (Number(m[3]) > 0) shape.frames = Number(m[3]);
  return shape;
}
