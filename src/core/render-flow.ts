import { DailiesError, isDailiesError } from '../errors.ts';
import type { ArtifactRef, JobStatus, RenderJob, RenderRequest } from '../queue/job-queue.ts';
import { rateLimitMessage } from '../safety/rate-limit.ts';
import type { CommandContext } from './command-context.ts';
import type { JobKind, JobRecord, PromptVersion, Session, VersionDraft } from './session.ts';
import { addJob, appendVersion, requireVersion } from './session-state.ts';

/**
 * Making render jobs: the record in the session and the payload for the queue are created
 * together, the queue's refusal is written back to the job, and the progress message is started
 * without holding up the acknowledgement of the chat event.
 */

export interface JobSpec {
  kind: JobKind;
  quality: 'draft' | 'final';
  takes: number;
  /** Overrides the version's seed (finalize/extend render a take's own seed). */
  seed?: number;
  source?: { jobId: string; take: number };
  /** null: no image even if the session has one (finalize/extend work from the take). */
  image?: { artifact: ArtifactRef; strength: number } | null;
  extend?: { artifact: ArtifactRef; overlap: number };
  frames?: number;
  steps?: number;
}

export async function spendRenderToken(ctx: CommandContext): Promise<void> {
  if (!ctx.rateLimiter) return;
  const decision = await ctx.rateLimiter.take(`${ctx.event.platform}:${ctx.user.id}`);
  if (!decision.allowed) throw new DailiesError('rate_limited', rateLimitMessage(decision.retryAfterMs));
}

export function buildRenderJob(session: Session, version: PromptVersion, job: JobRecord, spec: JobSpec, userId: string): RenderJob {
  const settings = session.settings;
  const request: RenderRequest = {
    prompt: version.prompt,
    negativePrompt: version.negativePrompt,
    seed: spec.seed ?? version.seed,
    takes: spec.takes,
    quality: spec.quality,
  };
  const steps = spec.steps ?? settings.steps;
  if (steps !== undefined) request.steps = steps;
  if (settings.guidance !== undefined) request.guidance = settings.guidance;
  const frames = spec.frames ?? settings.frames;
  if (frames !== undefined) request.frames = frames;
  const image = spec.image === undefined ? settings.image : spec.image;
  if (image) request.image = image;
  if (spec.extend) request.extend = spec.extend;
  return {
    v: 1,
    jobId: job.jobId,
    sessionId: session.id,
    version: version.n,
    userId,
    channelKey: session.channelKey,
    thread: session.thread,
    request,
  };
}

/**
 * Appends a version and its job in ONE atomic store write: `derive` runs against the latest
 * session (a concurrent edit cannot make two versions share a parent state unnoticed) and the
 * policy is checked on exactly the prompt that gets stored.
 */
export async function commitVersionWithJob(
  ctx: CommandContext,
  sessionId: string,
  derive: (session: Session) => VersionDraft,
  spec: JobSpec,
): Promise<{ session: Session; version: PromptVersion; job: JobRecord }> {
  const jobId = ctx.ids.jobId();
  const { session, value } = await ctx.store.update(sessionId, (s, now) => {
    const draft = derive(s);
    ctx.policy.assertAllowed(draft.prompt);
    const appended = appendVersion(s, draft, now);
    const added = addJob(appended.session, { jobId, version: appended.version.n, kind: spec.kind, quality: spec.quality, takes: spec.takes, requestedBy: { id: ctx.user.id, name: ctx.user.name }, ...(spec.source ? { source: spec.source } : {}) }, now);
    return { session: added.session, value: { version: appended.version, job: added.job } };
  });
  return { session, ...value };
}

/** Adds a job for an existing version (finalize, extend) atomically. */
export async function commitJob(ctx: CommandContext, sessionId: string, versionN: number, spec: JobSpec): Promise<{ session: Session; version: PromptVersion; job: JobRecord }> {
  const jobId = ctx.ids.jobId();
  const { session, value } = await ctx.store.update(sessionId, (s, now) => {
    const version = requireVersion(s, versionN);
    const added = addJob(s, { jobId, version: versionN, kind: spec.kind, quality: spec.quality, takes: spec.takes, requestedBy: { id: ctx.user.id, name: ctx.user.name }, ...(spec.source ? { source: spec.source } : {}) }, now);
    return { session: added.session, value: { version, job: added.job } };
  });
  return { session, ...value };
}

/** Hands the job to the queue; a refusal marks the job failed and is rethrown for the user. */
export async function submitJob(ctx: CommandContext, session: Session, version: PromptVersion, job: JobRecord, spec: JobSpec): Promise<JobStatus> {
  let status: JobStatus;
  try {
    status = await ctx.queue.enqueue(buildRenderJob(session, version, job, spec, ctx.user.id));
  } catch (error) {
    const failure = isDailiesError(error)
      ? { code: error.code, message: error.message }
      : { code: 'unavailable', message: 'The render queue is not answering; try again in a minute.' };
    await ctx.store.transitionJob(job.jobId, 'failed', { error: failure }).catch((e: unknown) => ctx.log.warn(`could not mark job ${job.jobId} failed`, e));
    void ctx.delivery.track(job.jobId).catch((e: unknown) => ctx.log.warn(`could not show job ${job.jobId}`, e));
    if (isDailiesError(error)) throw error;
    ctx.log.error(`enqueue of job ${job.jobId} failed`, error);
    throw new DailiesError('unavailable', failure.message, { cause: error, retryable: true });
  }
  // Not awaited: the chat event is acknowledged now; the progress message follows on its own.
  void ctx.delivery.track(job.jobId, status).catch((e: unknown) => ctx.log.warn(`could not show job ${job.jobId}`, e));
  return status;
}
