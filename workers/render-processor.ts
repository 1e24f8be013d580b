/**
 * Render job processor.
 *
 * Payload: RenderJob v1 (src/queue/render-job-schema.ts), parsed again here because the worker
 *   may be older or newer than the bot that enqueued it; a payload that does not parse fails at
 *   once (UnrecoverableError) and is never retried.
 * Retries: 3 attempts with exponential backoff (set at enqueue), used only by transient failures:
 *   DailiesError.retryable, engine-thread crashes, ffmpeg and file errors. bad_input,
 *   policy_refused, model_invalid and cancelled fail at once. A job whose worker died is re-run
 *   by BullMQ's stalled-job check (once), and a job interrupted by shutdown goes back to the
 *   front of its band without using an attempt.
 * Idempotency key: jobId. Every attempt writes the same artifact keys (renders/<jobId>/...), so a
 *   re-run overwrites instead of adding files, and the final post is claimed once per jobId
 *   (BullmqJobQueue.completedOnce).
 * Long renders (past one model window, extensions, films: chain-render.ts, cut-render.ts) store
 *   every finished segment, so a re-run, a retry or the chain's next turn goes on from the last
 *   one. Between segments a chain hands its worker back (`between`): the job is requeued behind
 *   the jobs waiting (fair-share.ts requeue), moved to BullMQ's delayed set with no delay, and
 *   the processor throws DelayedError, which BullMQ takes as "moved, not failed": no attempt is
 *   used, and the next free worker, this one included, takes whichever job is first in line.
 *   One-window renders take the fast path below, unchanged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DelayedError, UnrecoverableError, WaitingError } from 'bullmq';
import type { Clip, GenerateRequest, PreviewEvent, StepEvent, VideoModel } from '../src/core/ports/video-model.ts';
import { DailiesError, isDailiesError } from '../src/errors.ts';
import type { RenderJob, TakeResult } from '../src/core/ports/job-queue.ts';
import type { ArtifactRef, ArtifactStore } from '../src/core/ports/artifact-store.ts';
import { encodeFailure, type ProgressPayload, type RenderResult } from '../src/queue/job-wire.ts';
import { stepsFor } from '../src/queue/job-cost.ts';
import { parseRenderJob } from '../src/queue/render-job-schema.ts';
import { renderChain } from './chain-render.ts';
import { renderCut } from './cut-render.ts';
import { extension } from './long-take.ts';
import type { LeasedModel } from './model-pool.ts';
import type { PreviewSink, RenderContext, SegmentPlace } from './render-context.ts';
import { CHAIN_PREVIEW_GAP_MS } from './segment-runner.ts';
import type { RenderMedia } from './render-media.ts';
import { checkPreview, gateTake, gatedResult, type GatedTake } from './frame-gate.ts';
import type { FrameCheck } from '../src/core/ports/frame-check.ts';
import { signIfCredited, videoBudget, type FinalSigner } from './final-signer.ts';
import { processLogger } from '../src/logging/logger.ts';
import { StallWatch } from './stall-watch.ts';

/** The parts of a BullMQ Job the processor uses (a BullMQ Job is one). */
export interface RenderJobHandle {
  id?: string | undefined;
  data: unknown;
  attemptsMade: number;
  opts: { attempts?: number | undefined };
  timestamp: number;
  processedOn?: number | undefined;
  /** The last progress payload stored with the job ('yielded' while a chain waits for its next turn). */
  progress?: unknown;
  updateProgress(progress: ProgressPayload): Promise<void>;
  moveToWait(token?: string): Promise<unknown>;
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
}

/** The queue as a chain sees it between two segments. */
export interface QueueTurns {
  /** Jobs a free worker would start now. */
  waitingCount(): Promise<number>;
  /** Puts the running job at the back of the line (fair share), still outstanding; see FairShare.requeue. */
  requeue(jobId: string, startedAt: number): Promise<unknown>;
}

/**
 * When a chain hands its worker back between segments: 'when-waiting' (default) only when some
 * other job waits for a worker, 'always' after every segment, 'never'.
 */
export type YieldPolicy = 'when-waiting' | 'always' | 'never';

export interface RenderProcessorDeps {
  workerId: string;
  acquireModel(): Promise<LeasedModel>;
  media: RenderMedia;
  store: ArtifactStore;
  /** Whether a cancel flag is set (the fallback when the pub/sub cancel message was missed). */
  isCancelRequested(jobId: string): Promise<boolean>;
  /** Least time between progress events; chat platforms rate-limit the edits they cause. Default 500 ms. */
  progressIntervalMs?: number;
  /** Least time between cancel-flag checks during a render. Default 1 s. */
  cancelPollMs?: number;
  /** A render with no step, preview or stored take for this long is aborted and retried (stall-watch.ts). Default 10 min. */
  stallTimeoutMs?: number;
  /** Reads every preview and final before it is stored (DAILIES_FRAME_CHECK); null: no check. */
  frameCheck?: FrameCheck | null;
  /** Signs finals with Content Credentials (their request carries `credits`); null: unsigned. */
  signer?: FinalSigner | null;
  /** Turn-taking for chains; without it a chain keeps its worker to the end. */
  turns?: QueueTurns;
  yieldPolicy?: YieldPolicy;
  /** Least time between a chain's previews after its first segment; default CHAIN_PREVIEW_GAP_MS (10 s). */
  chainPreviewGapMs?: number;
  /** True once the worker is shutting down: a chain then hands its worker back at its next segment, whatever the policy. */
  isClosing?: () => boolean;
  log?: (line: string) => void;
}

/** Abort reasons: a person's /cancel, the worker shutting down (the job goes back in line), a render that stopped making progress (retried). */
export const CANCEL_REASON = 'cancelled';
export const SHUTDOWN_REASON = 'shutdown';
export const STALL_REASON = 'stalled';

export class RenderProcessor {
  private readonly progressIntervalMs: number;
  private readonly cancelPollMs: number;
  private readonly stallTimeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(private readonly deps: RenderProcessorDeps) {
    this.progressIntervalMs = deps.progressIntervalMs ?? 500;
    this.cancelPollMs = deps.cancelPollMs ?? 1_000;
    this.stallTimeoutMs = deps.stallTimeoutMs ?? 600_000;
    this.log = deps.log ?? ((line) => processLogger().warn(line));
  }

  private get frameCheck(): FrameCheck | null {
    return this.deps.frameCheck ?? null;
  }

  async process(job: RenderJobHandle, token: string | undefined, signal: AbortSignal | undefined): Promise<RenderResult> {
    let payload: RenderJob;
    try {
      payload = parseRenderJob(job.data);
    } catch (error) {
      throw new UnrecoverableError(encodeFailure('bad_input', (error as Error).message));
    }
    const local = new AbortController();
    const abort = signal ? AbortSignal.any([signal, local.signal]) : local.signal;
    const watch = new StallWatch(this.stallTimeoutMs, (idleMs) => {
      this.log(`[worker] ${payload.jobId} made no progress for ${Math.round(idleMs / 1000)} s; aborting this attempt`);
      local.abort(STALL_REASON);
    });
    const turn: Turn = { job, token, payload, signal: abort, local, watch, started: Date.now(), resumed: yieldedProgress(job.progress), discard: [] };
    try {
      if (await this.deps.isCancelRequested(payload.jobId)) local.abort(CANCEL_REASON);
      if (abort.aborted) throw abort.reason;
      // A chain's next turn is not a new start: people already see it rendering.
      if (!turn.resumed) await job.updateProgress({ kind: 'started', workerId: this.deps.workerId, attempt: job.attemptsMade + 1 });
      return await this.render(turn);
    } catch (error) {
      throw await this.failure(turn, error);
    } finally {
      watch.stop();
    }
  }

  private async render(turn: Turn): Promise<RenderResult> {
    const { job, payload, signal, local } = turn;
    const started = Date.now();
    const timings: Record<string, number> = {};
    if (job.processedOn) timings.queueWait = job.processedOn - job.timestamp;
    const tmp = await mkdtemp(path.join(os.tmpdir(), `dailies-${payload.jobId}-`));
    const lease = await this.deps.acquireModel();
    try {
      const model = lease.model;
      if (payload.model && payload.model !== model.name) {
        throw new DailiesError(
          'model_invalid',
          `This worker pool renders with "${model.name}", not "${payload.model}"; pick that model or start workers for the other one.`,
        );
      }
      const r = payload.request;
      if (r.cut || r.extend || (r.frames ?? model.defaults.frames) > model.defaults.frames) {
        const ctx = this.context(turn, model, tmp, lease.release);
        const result = r.cut ? await renderCut(ctx, r.cut) : await renderChain(ctx);
        lease.release();
        const activeMs = (turn.resumed?.activeMs ?? 0) + (Date.now() - turn.started);
        if (job.processedOn && !turn.resumed) result.timingsMs.queueWait = job.processedOn - job.timestamp;
        Object.assign(result.timingsMs, { active: activeMs, total: activeMs });
        return result;
      }

      // One window: the fast path.
      let t = Date.now();
      const request = await this.generateRequest(payload, model, signal);
      timings.inputs = Date.now() - t;

      const previews = this.previewPublisher(turn, model, tmp);
      const onStep = this.stepReporter(turn);
      t = Date.now();
      const result = await model.generate(request, { signal, onStep, onPreview: previews.push });
      timings.generate = Date.now() - t;
      Object.assign(timings, { encodePrompt: result.timingsMs.encodePrompt, denoise: result.timingsMs.denoise, decode: result.timingsMs.decode });
      lease.release();
      await previews.drain();

      t = Date.now();
      const gated: GatedTake[] = [];
      for (const [index, take] of result.takes.entries()) {
        signal.throwIfAborted();
        gated.push(await gateTake(this.frameCheck, index, take.seed, take.clip, signal, () => this.storeTake(payload, model, index, take, tmp, signal)));
        turn.watch.touch();
      }
      timings.encode = Date.now() - t;
      timings.total = Date.now() - started;
      return { ...gatedResult(gated), timingsMs: timings };
    } finally {
      lease.release();
      await rm(tmp, { recursive: true, force: true });
    }
  }

  private async generateRequest(payload: RenderJob, model: VideoModel, signal: AbortSignal): Promise<GenerateRequest> {
    const r = payload.request;
    const request: GenerateRequest = {
      prompt: r.prompt,
      seed: r.seed,
      variations: r.takes,
    };
    if (r.negativePrompt) request.negativePrompt = r.negativePrompt;
    if (r.steps !== undefined || r.quality === 'final') request.steps = stepsFor(r, model.defaults.steps);
    if (r.guidance !== undefined) request.guidance = r.guidance;
    if (r.frames !== undefined) request.frames = r.frames;
    if (r.image) {
      const file = await this.deps.store.localPath(r.image.artifact);
      request.image = { frame: await this.deps.media.decodeImage(file, { signal }), strength: r.image.strength };
    }
    return request;
  }

  /**
   * Step events become throttled job progress (with the segment of a chain); each also polls the
   * cancel flag now and then.
   */
  private stepReporter(turn: Turn, place?: SegmentPlace): (e: StepEvent) => void {
    const { job, local, watch } = turn;
    const jobId = turn.payload.jobId;
    let lastSent = 0;
    let lastPoll = Date.now();
    const segment = place ? { segment: place.k, segments: place.n } : {};
    return ({ step, totalSteps }) => {
      watch.touch();
      const now = Date.now();
      if (step === totalSteps || now - lastSent >= this.progressIntervalMs) {
        lastSent = now;
        job.updateProgress({ kind: 'step', step, totalSteps, ...segment }).catch((e: Error) => this.log(`[worker] progress of ${jobId}: ${e.message}`));
      }
      if (now - lastPoll >= this.cancelPollMs) {
        lastPoll = now;
        this.deps
          .isCancelRequested(jobId)
          .then((yes) => yes && local.abort(CANCEL_REASON))
          .catch(() => {});
      }
    };
  }

  /**
   * Previews are encoded one at a time off the step loop. When the engine gets ahead, only the
   * newest waiting preview is kept: a stale picture is worth less than keeping up.
   */
  private previewPublisher(turn: Turn, model: VideoModel, tmp: string, place?: SegmentPlace): PreviewSink {
    const { job, payload, signal, watch } = turn;
    let next: PreviewEvent | undefined;
    let running: Promise<void> | undefined;
    // A chain's previews show the newest segment's window; their keys name the segment.
    const name = place ? `preview-k${place.k}-s` : 'preview-s';
    const segment = place ? { segment: place.k, segments: place.n } : {};
    const publish = async (event: PreviewEvent) => {
      const previews: ArtifactRef[] = [];
      const shown: number[] = [];
      for (const [i, clip] of event.takes.entries()) {
        // A preview is posted as it is, so all its frames are read; a flagged one is never stored.
        if ((await checkPreview(this.frameCheck, clip, signal))?.flagged) continue;
        shown.push(i);
        const out = await this.deps.media.encodePreview(clip, {
          path: path.join(tmp, `${name}${event.step}-${i}`),
          size: model.defaults.outputSize,
          quality: 'draft',
          signal,
        });
        previews.push(await this.deps.store.putFile(`renders/${payload.jobId}/${name}${event.step}-t${i}.${extension(out.contentType)}`, out.path, out.contentType));
      }
      if (previews.length === 0) return;
      const takes = shown.length < event.takes.length ? { takes: shown } : {};
      await job.updateProgress({ kind: 'preview', step: event.step, totalSteps: event.totalSteps, previews, ...takes, ...segment });
      watch.touch();
    };
    const pump = async () => {
      while (next && !signal.aborted) {
        const event = next;
        next = undefined;
        await publish(event).catch((e: Error) => this.log(`[worker] preview of ${payload.jobId} at step ${event.step}: ${e.message}`));
      }
      running = undefined;
    };
    return {
      push: (event: PreviewEvent) => {
        next = event;
        running ??= pump();
      },
      drain: async () => {
        await running;
      },
    };
  }

  private async storeTake(payload: RenderJob, model: VideoModel, index: number, take: { seed: number; clip: Clip }, tmp: string, signal: AbortSignal): Promise<TakeResult> {
    const size = model.defaults.outputSize;
    const base = `renders/${payload.jobId}/take-${index}`;
    const signer = this.deps.signer ?? null;
    const maxBytes = videoBudget(signer, payload.request);
    const { video, preview } = await this.deps.media.encodeTake(take.clip, {
      video: {
        path: path.join(tmp, `take-${index}.mp4`),
        size,
        quality: payload.request.quality === 'final' ? 'finalize' : 'standard',
        ...(maxBytes !== undefined ? { maxBytes } : {}),
      },
      preview: { path: path.join(tmp, `take-${index}-preview`), size },
      signal,
    });
    // Signing is the last step: any later re-encode would drop the credentials.
    const stored = await signIfCredited(signer, payload.request, video, signal);
    return {
      index,
      seed: take.seed,
      video: await this.deps.store.putFile(`${base}.${extension(video.contentType)}`, stored.path, video.contentType),
      preview: await this.deps.store.putFile(`${base}-preview.${extension(preview.contentType)}`, preview.path, preview.contentType),
      frames: take.clip.frames.length,
      fps: take.clip.fps,
      model: model.name,
      ...(stored.signed ? { signed: true } : {}),
    };
  }

  /**
   * A long render's turn: what it needs of the processor. `between` is where a chain takes turns
   * with other jobs.
   */
  private context(turn: Turn, model: VideoModel, tmp: string, releaseModel: () => void): RenderContext {
    const { job, payload, signal, local } = turn;
    return {
      payload,
      model,
      store: this.deps.store,
      media: this.deps.media,
      signal,
      tmp,
      resumeHint: turn.resumed?.segment ?? 0,
      previewGapMs: this.deps.chainPreviewGapMs ?? CHAIN_PREVIEW_GAP_MS,
      releaseModel,
      frameCheck: this.frameCheck,
      signer: this.deps.signer ?? null,
      onStep: (place) => this.stepReporter(turn, place),
      previews: (place) => this.previewPublisher(turn, model, tmp, place),
      between: (done, total, settle) => this.between(turn, done, total, settle),
      onDiscard: (discard) => void turn.discard.push(discard),
      log: this.log,
    };
  }

  /**
   * Between two segments of a chain: hands the worker back when the policy says so. The job goes
   * to the back of the line (fair share), then to BullMQ's delayed set due now, from where the
   * next fetch by any worker promotes it into its band; DelayedError tells BullMQ the processor
   * moved the job itself. The 'yielded' progress comes first, so the bots keep showing it as
   * rendering and its next turn knows how far it got and how long it has rendered.
   */
  private async between(turn: Turn, done: number, total: number, settle: () => Promise<void>): Promise<void> {
    const { job, token, payload, signal, local } = turn;
    signal.throwIfAborted();
    const turns = this.deps.turns;
    const policy = this.deps.yieldPolicy ?? 'when-waiting';
    if (!turns) return;
    // A worker shutting down hands the chain on now rather than at the end of its grace period.
    if (!this.deps.isClosing?.()) {
      if (policy === 'never') return;
      if (policy === 'when-waiting' && (await turns.waitingCount()) === 0) return;
    }
    // A cancel that arrived by flag only must not leave the job in line for another turn.
    if (await this.deps.isCancelRequested(payload.jobId)) local.abort(CANCEL_REASON);
    signal.throwIfAborted();
    await settle();
    const activeMs = (turn.resumed?.activeMs ?? 0) + (Date.now() - turn.started);
    await job.updateProgress({ kind: 'yielded', segment: done, segments: total, activeMs });
    await turns.requeue(payload.jobId, job.processedOn ?? turn.started);
    await job.moveToDelayed(Date.now(), token);
    throw new DelayedError();
  }

  /** Maps an error to what BullMQ should do with the attempt. */
  private async failure(turn: Turn, error: unknown): Promise<Error> {
    const { job, token, signal } = turn;
    const jobId = turn.payload.jobId;
    // A chain handing its worker back: BullMQ already has the job where it belongs.
    if (error instanceof DelayedError) return error;
    const final = await this.failureOf(job, token, jobId, error, signal);
    // A job ended for good leaves no raw segments behind; one that will be retried keeps them to resume from.
    if (final instanceof UnrecoverableError || (!(final instanceof WaitingError) && job.attemptsMade + 1 >= (job.opts.attempts ?? 1))) {
      for (const discard of turn.discard) await discard().catch((e: Error) => this.log(`[worker] cleaning up ${jobId}: ${e.message}`));
    }
    return final;
  }

  private async failureOf(job: RenderJobHandle, token: string | undefined, jobId: string, error: unknown, signal: AbortSignal): Promise<Error> {
    if (signal.aborted && signal.reason === SHUTDOWN_REASON) {
      // Back in line without using an attempt; WaitingError tells BullMQ we moved it ourselves.
      try {
        await job.moveToWait(token);
        this.log(`[worker] ${jobId} interrupted by shutdown; back in the queue`);
        return new WaitingError();
      } catch (moveError) {
        this.log(`[worker] ${jobId} could not be requeued (${(moveError as Error).message}); the stalled-job check will`);
        return new Error(encodeFailure('unavailable', 'The worker shut down during the render; it will be tried again.'));
      }
    }
    if (signal.aborted && signal.reason === STALL_REASON) {
      error = new DailiesError('unavailable', `The render stopped making progress on its worker (nothing for ${Math.round(this.stallTimeoutMs / 60_000) || 1} min).`, { retryable: true });
    } else if (signal.aborted || (isDailiesError(error) && error.code === 'cancelled')) {
      return new UnrecoverableError(encodeFailure('cancelled', 'The render was cancelled.'));
    }
    if (isDailiesError(error) && !error.retryable) {
      return new UnrecoverableError(encodeFailure(error.code, error.message));
    }
    const willRetry = job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    const code = isDailiesError(error) ? error.code : 'internal';
    const message = isDailiesError(error)
      ? error.message
      : willRetry
        ? 'The render failed on a worker; trying again.'
        : 'The render failed on a worker several times; try again later or with different settings.';
    this.log(`[worker] ${jobId} attempt ${job.attemptsMade + 1} failed: ${(error as Error)?.stack ?? String(error)}`);
    if (willRetry) await job.updateProgress({ kind: 'retrying', code, message }).catch(() => {});
    return new Error(encodeFailure(code, message));
  }
}

/** One turn of a job on this worker. */
interface Turn {
  job: RenderJobHandle;
  token: string | undefined;
  payload: RenderJob;
  signal: AbortSignal;
  local: AbortController;
  /** Aborts the turn when it stops making progress. */
  watch: StallWatch;
  started: number;
  /** How far the chain got, when this turn follows its own hand-back. */
  resumed: { segment: number; activeMs: number } | undefined;
  /** Deletes a long render's raw frames (registered once planned). */
  discard: (() => Promise<void>)[];
}

function yieldedProgress(progress: unknown): Turn['resumed'] {
  const p = progress as { kind?: unknown; segment?: unknown; activeMs?: unknown } | null | undefined;
  if (p?.kind !== 'yielded' || typeof p.segment !== 'number') return undefined;
  return { segment: p.segment, activeMs: typeof p.activeMs === 'number' ? p.activeMs : 0 };
}
