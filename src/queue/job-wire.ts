import type { SegmentProgress, TakeResult, WithheldTake } from '../core/ports/job-queue.ts';
import type { ArtifactRef } from '../core/ports/artifact-store.ts';

/**
 * What workers put on BullMQ's event stream, read back by BullmqJobQueue in every bot process.
 *
 * Step progress and previews travel as `job.updateProgress` payloads rather than on a separate
 * pub/sub channel: the stream is persisted and read with XREAD from the last seen id, so a bot
 * that reconnects after a Redis blip misses nothing, and because everything about a job is on one
 * ordered stream a preview can never arrive after that job's 'completed'. Only cancellation uses
 * pub/sub (see BullmqJobQueue.cancel), where a lost message is covered by a flag key.
 */
export type ProgressPayload =
  | { kind: 'started'; workerId: string; attempt: number }
  | ({ kind: 'step'; step: number; totalSteps: number } & SegmentProgress)
  | ({ kind: 'preview'; step: number; totalSteps: number; previews: ArtifactRef[]; takes?: number[] } & SegmentProgress)
  /** Sent just before a failed attempt is handed back to BullMQ for a retry. */
  | { kind: 'retrying'; code: string; message: string }
  /**
   * A chain handing its worker back between segments (it waits in line for its next segment and
   * is still rendering as far as people go). Sent just before the job leaves the worker, so it is
   * the job's stored progress while it waits; `activeMs` is the rendering time of its turns so far.
   */
  | { kind: 'yielded'; segment: number; segments: number; activeMs: number };

/** A render job's return value (BullMQ stores it as the job's `returnvalue`). */
export interface RenderResult {
  takes: TakeResult[];
  /** Takes the frame check kept back (absent when none were). */
  withheld?: WithheldTake[];
  timingsMs: Record<string, number>;
}

export function isProgressPayload(value: unknown): value is ProgressPayload {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';
}

// BullMQ keeps only the error message of a failed job (`failedReason`), so the stable code
// rides in front of the sentence meant for people.
const FAILURE = /^\[([a-z_]+)\] ([\s\S]*)$/;

export function encodeFailure(code: string, message: string): string {
  return `[${code}] ${message}`;
}

export function decodeFailure(reason: string | undefined): { code: string; message: string } {
  const match = FAILURE.exec(reason ?? '');
  if (match) return { code: match[1]!, message: match[2]! };
  return { code: 'internal', message: 'The render failed unexpectedly; try again in a minute.' };
}
