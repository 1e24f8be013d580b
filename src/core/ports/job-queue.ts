import type { FrameFinding } from './frame-check.ts';
import type { RenderCredits } from '../credits.ts';
import type { ArtifactRef } from './artifact-store.ts';
import type { ThreadRef } from './chat-adapter.ts';

/**
 * The job seam between the bot side (commands, delivery) and the worker pool. The BullMQ
 * implementation lives in src/queue; the core sees only these types.
 */

export interface RenderRequest {
  prompt: string;
  negativePrompt: string;
  seed: number;
  takes: number;
  steps?: number;
  guidance?: number;
  frames?: number;
  /** draft: model defaults; final: more steps and a smoother frame rate. */
  quality: 'draft' | 'final';
  image?: { artifact: ArtifactRef; strength: number };
  /** Known frames carried across each join when `frames` is longer than one model window. */
  overlap?: number;
  /**
   * Continue a video. The result is the whole video: the source then the new frames (forward),
   * or the new frames then the source (backward). `frames` counts the new frames only.
   */
  extend?: { artifact: ArtifactRef; overlap: number; direction?: 'forward' | 'backward' };
  /**
   * Assemble a film from finished takes, in order (a storyboard's cut, or a bridge: two shots
   * joined by a generated transition). `frames` is each generated transition's length.
   */
  cut?: CutSpec;
  /** A final's Content Credentials (src/core/credits.ts): the worker signs the video with them. */
  credits?: RenderCredits;
}

export interface CutShot {
  artifact: ArtifactRef;
  /** What the film's caption calls it, e.g. "shot 2: v3#1". */
  label: string;
  /** The shot's prompt; a bridge into this shot is rendered with it. */
  prompt: string;
}

export interface CutSpec {
  shots: CutShot[];
  /** cut: back to back; fade: a cross-fade of `fadeFrames`; bridge: generated frames between shots. */
  transition: 'cut' | 'fade' | 'bridge';
  /** Known frames at each end of a bridge (from the shot before and the shot after). */
  overlap: number;
}

/** Job payload, versioned: workers validate it again (zod) before running. */
export interface RenderJob {
  v: 1;
  jobId: string;
  sessionId: string;
  /** Prompt version (1-based) this job renders. */
  version: number;
  userId: string;
  /** Fair-share key of the channel, e.g. "discord:123". */
  channelKey: string;
  thread: ThreadRef;
  request: RenderRequest;
  model?: string;
}

export interface TakeResult {
  index: number;
  seed: number;
  video: ArtifactRef;
  preview: ArtifactRef;
  /** Frames in the video at the model's frame rate (absent on results recorded before it existed). */
  frames?: number;
  fps?: number;
  /** The video carries signed Content Credentials (a final whose request had `credits`). */
  signed?: boolean;
  /** The name of the model that rendered it (absent on results recorded before it was kept). */
  model?: string;
}

/**
 * A take the frame check kept back (src/core/ports/frame-check.ts): its files were never stored,
 * so nothing can serve or post it; the thread says why, and moderators can ask `/why`.
 */
export interface WithheldTake {
  index: number;
  seed: number;
  finding: FrameFinding;
  /** Every label's highest score over the checked frames. */
  scores: Record<string, number>;
  frames: number;
}

/** A chained render's place: segment k (1-based) of n; `step` then counts within the segment. Absent for one-window renders. */
export interface SegmentProgress {
  segment?: number;
  segments?: number;
}

export type JobEvent =
  | { type: 'queued'; jobId: string; position: number; etaMs: number | null }
  | { type: 'started'; jobId: string; workerId: string; attempt: number }
  | ({ type: 'progress'; jobId: string; step: number; totalSteps: number } & SegmentProgress)
  /** `takes[i]` is the take `previews[i]` shows (absent: take i); a take whose preview the frame check withheld has none. */
  | ({ type: 'preview'; jobId: string; step: number; totalSteps: number; previews: ArtifactRef[]; takes?: number[] } & SegmentProgress)
  | { type: 'completed'; jobId: string; takes: TakeResult[]; withheld?: WithheldTake[]; timingsMs: Record<string, number> }
  | { type: 'failed'; jobId: string; error: { code: string; message: string }; willRetry: boolean }
  | { type: 'cancelled'; jobId: string };

/** A job's end as the queue recorded it. */
export type EndEvent = Extract<JobEvent, { type: 'completed' | 'failed' | 'cancelled' }>;

/**
 * What the queue's own record says about a job, for ends a bot missed (it was down, or its event
 * stream dropped): `pending` while it waits, runs or waits for a retry; `unknown` when the queue
 * has no such job.
 */
export type JobOutcome = { state: 'pending' } | { state: 'unknown' } | { state: 'ended'; event: EndEvent };

export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'cancelled' | 'unknown';

export interface JobStatus {
  state: JobState;
  /** 1-based place in line among waiting jobs (fair-share order), null unless waiting. */
  position: number | null;
  etaMs: number | null;
}

export interface JobQueue {
  /** Admits a job (per-person cap enforced here; a refusal is a DailiesError 'rate_limited'). */
  enqueue(job: RenderJob): Promise<JobStatus>;
  /** Cancels a waiting job, or signals the worker running it to stop at its next step. */
  cancel(jobId: string): Promise<boolean>;
  status(jobId: string): Promise<JobStatus>;
  /** The job's end from the queue's record (one read), for reconciling ends no event reported. */
  outcome(jobId: string): Promise<JobOutcome>;
  /** Subscribe to events of all jobs; returns an unsubscribe function. */
  onEvent(listener: (event: JobEvent) => void): () => void;
  close(): Promise<void>;
}
