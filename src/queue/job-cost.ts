import type { RenderRequest } from '../core/ports/job-queue.ts';
import { planSegments } from '../core/segment-plan.ts';

/**
 * How much work a render is, so an ETA can tell a 4-take finalize from a 1-take draft, and a
 * minute-long chain from a 2-second clip.
 *
 * Work units are takes x denoising steps x frames the model renders: a batched call costs about
 * linearly in its batch, and a step in its frames. A render longer than one model window is a
 * chain of full windows (src/core/segment-plan.ts), so it costs its segments' worth of windows,
 * known frames included: the model renders those too. Workers record milliseconds per unit of
 * what they rendered; the producer turns a waiting job into units with the defaults of the model
 * the pool runs (published by the workers), since a request leaves steps and frames to the model
 * unless set.
 */

/** A finalize render samples this many times the model's default steps (unless steps are set). */
export const FINAL_STEP_FACTOR = 2;

/** Known frames carried across a join when the request does not say (the core's default too). */
export const DEFAULT_OVERLAP = 4;

/** What a job asks for, as far as its cost goes. */
export interface JobShape {
  takes: number;
  steps?: number;
  /** New frames (a cut: each generated transition's length). */
  frames?: number;
  quality: 'draft' | 'final';
  /** 'extend': continues a video; 'film': assembles finished shots (a cut or a bridge). Absent: a plain render. */
  kind?: 'extend' | 'film';
  /** Known frames carried across each join. */
  overlap?: number;
  /** A film's generated transitions (0 for cuts and fades, which only decode and encode). */
  joins?: number;
}

/** The defaults of the model the pool renders with. */
export interface ModelScale {
  steps: number;
  frames: number;
}

/** The cost-relevant part of a request. */
export function shapeOf(request: RenderRequest): JobShape {
  const shape: JobShape = { takes: request.takes, quality: request.quality };
  if (request.steps !== undefined) shape.steps = request.steps;
  if (request.frames !== undefined) shape.frames = request.frames;
  if (request.cut) {
    shape.kind = 'film';
    shape.overlap = request.cut.overlap;
    shape.joins = request.cut.transition === 'bridge' ? request.cut.shots.length - 1 : 0;
  } else if (request.extend) {
    shape.kind = 'extend';
    shape.overlap = request.extend.overlap;
  } else if (request.overlap !== undefined) {
    // Kept for this process's estimate; the compact form below drops it, so a plain chain's ETA
    // elsewhere assumes the default overlap (a few percent off for another setting).
    shape.overlap = request.overlap;
  }
  return shape;
}

export function stepsFor(shape: Pick<JobShape, 'steps' | 'quality'>, defaultSteps: number): number {
  return shape.steps ?? (shape.quality === 'final' ? defaultSteps * FINAL_STEP_FACTOR : defaultSteps);
}

export function workUnits(shape: JobShape, scale: ModelScale): number {
  const steps = stepsFor(shape, scale.steps);
  // A film is one take whatever the session's setting.
  if (shape.kind === 'film') return steps * filmFrames(shape, scale.frames);
  return shape.takes * steps * renderedFrames(shape, scale.frames);
}

/** Frames the model renders for a plain render or an extension: one window, or a chain of windows. */
function renderedFrames(shape: JobShape, window: number): number {
  const frames = shape.frames ?? window;
  if (shape.kind !== 'extend' && frames <= window) return frames;
  // An extension's source is at least a window long (a take): every segment has a known head.
  const context = shape.kind === 'extend' ? window : 0;
  return windows({ frames, window, overlap: shape.overlap ?? DEFAULT_OVERLAP, headAvailable: context, tailAvailable: 0 }) * window;
}

/**
 * A cut or fade decodes and encodes the shots, about a window's worth of work; a bridge film
 * renders each transition as a chain between two known ends.
 */
function filmFrames(shape: JobShape, window: number): number {
  const joins = shape.joins ?? 0;
  if (joins === 0) return window;
  const overlap = shape.overlap ?? DEFAULT_OVERLAP;
  const frames = shape.frames ?? Math.max(1, window - 2 * overlap);
  return joins * windows({ frames, window, overlap, headAvailable: window, tailAvailable: window }) * window;
}

function windows(input: Parameters<typeof planSegments>[0]): number {
  try {
    return planSegments(input).length;
  } catch {
    // An impossible plan fails in the worker with its own sentence; cost it as one window here.
    return 1;
  }
}

/**
 * Compact form kept in the fair-share bookkeeping: "takes:steps:frames:quality", 0 = model
 * default, then ":e<overlap>" for an extension or ":f<overlap>:<joins>" for a film.
 */
export function encodeShape(shape: JobShape): string {
  const base = `${shape.takes}:${shape.steps ?? 0}:${shape.frames ?? 0}:${shape.quality === 'final' ? 'f' : 'd'}`;
  if (shape.kind === 'extend') return `${base}:e${shape.overlap ?? 0}`;
  if (shape.kind === 'film') return `${base}:f${shape.overlap ?? 0}:${shape.joins ?? 0}`;
  return base;
}

export function decodeShape(text: string | null | undefined): JobShape | null {
  const m = /^(\d+):(\d+):(\d+):([fd])(?::e(\d+)|:f(\d+):(\d+))?$/.exec(text ?? '');
  if (!m) return null;
  const shape: JobShape = { takes: Number(m[1]), quality: m[4] === 'f' ? 'final' : 'draft' };
  if (Number(m[2]) > 0) shape.steps = Number(m[2]);
  if (Number(m[3]) > 0) shape.frames = Number(m[3]);
  if (m[5] !== undefined) {
    shape.kind = 'extend';
    if (Number(m[5]) > 0) shape.overlap = Number(m[5]);
  } else if (m[6] !== undefined) {
    shape.kind = 'film';
    if (Number(m[6]) > 0) shape.overlap = Number(m[6]);
    shape.joins = Number(m[7]);
  }
  return shape;
}
