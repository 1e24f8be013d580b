import type { ArtifactStore } from '../src/core/ports/artifact-store.ts';
import type { RenderJob } from '../src/core/ports/job-queue.ts';
import type { PreviewEvent, StepEvent, VideoModel } from '../src/core/ports/video-model.ts';
import type { RenderMedia } from './render-media.ts';
import type { FrameCheck } from '../src/core/ports/frame-check.ts';
import type { FinalSigner } from './final-signer.ts';

/** Segment k (1-based) of n, as progress and previews carry it. */
export interface SegmentPlace {
  k: number;
  n: number;
}

/** The previews of one model call: pushed by the engine, published off the step loop. */
export interface PreviewSink {
  push(event: PreviewEvent): void;
  /** Resolves when the previews pushed so far are published (or dropped as stale). */
  drain(): Promise<void>;
}

/**
 * What a long render (a chain, a film) gets from the processor for one turn on a worker: the job,
 * its model, where to put files, and the processor's progress, previews and turn-taking.
 */
export interface RenderContext {
  payload: RenderJob;
  model: VideoModel;
  store: ArtifactStore;
  media: RenderMedia;
  /** Aborted by /cancel or shutdown; every long call takes it. */
  signal: AbortSignal;
  /** A private scratch directory, removed after the turn. */
  tmp: string;
  /** Least time between two previews of a chain after its first segment (see segment-runner.ts). */
  previewGapMs: number;
  /** Segments the job reported finished when it last handed its worker back (0 on a first or crashed run). */
  resumeHint: number;
  /** Reads each take before it is stored (workers/frame-gate.ts); null: no check. */
  frameCheck: FrameCheck | null;
  /** Signs finals whose request carries credits (workers/final-signer.ts); null: unsigned. */
  signer: FinalSigner | null;
  /** Hands the model back to the worker's other slots once the last segment is rendered. */
  releaseModel(): void;
  onStep(place: SegmentPlace): (e: StepEvent) => void;
  previews(place: SegmentPlace): PreviewSink;
  /**
   * Called after segment `done` of `total` is stored, when more follow: hands the worker back to
   * the queue if it should (never returns then: it throws BullMQ's DelayedError once the job is
   * back in line), else returns and the chain goes on. `settle` resolves once everything the
   * turn still publishes (previews) is out; a hand-back awaits it first, so the hand-back is the
   * last thing the job reports before its next turn.
   */
  between(done: number, total: number, settle: () => Promise<void>): Promise<void>;
  /** Registers what to delete if the job ends for good without a result (cancelled, refused). */
  onDiscard(discard: () => Promise<void>): void;
  log(line: string): void;
}
