import { DailiesError } from '../errors.ts';
import type { EventOutcome } from './ports/chat-adapter.ts';
import type { TakeResult } from './ports/job-queue.ts';
import type { CommandContext } from './command-context.ts';
import { requireManager } from './permissions.ts';
import type { JobRecord, Session } from './session.ts';
import { findJob, isTerminal, latestDoneDraft, replaceJob, requireVersion, transitionJob } from './session-state.ts';
import { commitJob, commitVersionWithJob, spendRenderToken, type JobSpec } from './render-flow.ts';

/** Working from one take: finalize (owner/moderator), vary and extend (anyone), and cancelling jobs. */

/** The finished take `take` (0-based) of `jobId`, or of the newest finished draft when no job is named. */
export function resolveTake(session: Session, take: number, jobId?: string): { job: JobRecord; take: TakeResult } {
  const job = jobId ? findJob(session, jobId) : latestDoneDraft(session);
  if (!job) {
    throw new DailiesError('not_found', jobId ? 'Those takes are not part of this session; use the buttons on a newer message.' : 'This session has no finished takes yet; wait for the render to finish.');
  }
  if (job.state !== 'done') throw new DailiesError('conflict', `The takes of v${job.version} are not finished yet (${job.state}); wait for them.`);
  const result = job.artifacts.find((t) => t.index === take);
  if (!result) throw new DailiesError('bad_input', `v${job.version} has no take ${take + 1}; pick take 1 to ${job.artifacts.length}.`);
  return { job, take: result };
}

export async function finalizeTake(ctx: CommandContext, session: Session, take: number, jobId?: string): Promise<EventOutcome> {
  requireManager(session, ctx.user, 'finalize takes');
  const source = resolveTake(session, take, jobId);
  const existing = session.jobs.find((j) => j.kind === 'finalize' && j.source?.jobId === source.job.jobId && j.source.take === take && j.state !== 'failed' && j.state !== 'cancelled');
  if (existing) throw new DailiesError('conflict', `Take ${take + 1} of v${source.job.version} is already ${existing.state === 'done' ? 'finalized' : 'being finalized'}; look for the Final message in the thread.`);
  await spendRenderToken(ctx);
  const spec: JobSpec = { kind: 'finalize', quality: 'final', takes: 1, seed: source.take.seed, source: { jobId: source.job.jobId, take } };
  if (ctx.config.finalSteps !== undefined) spec.steps = ctx.config.finalSteps;
  const { session: s, version, job } = await commitJob(ctx, session.id, source.job.version, spec);
  ctx.admission.submit(s, job);
  return { thread: session.thread, ephemeral: `Finalizing take ${take + 1} of v${version.n}; the video will appear in the thread.` };
}

export async function varyTake(ctx: CommandContext, session: Session, take: number, takes: number, jobId?: string): Promise<EventOutcome> {
  const source = resolveTake(session, take, jobId);
  const parent = requireVersion(session, source.job.version);
  await spendRenderToken(ctx);
  const seed = ctx.ids.seed();
  const preview = source.take.preview;
  // A take's preview image, when it is an image, steers the variations towards that take.
  const image = preview.contentType.startsWith('image/') ? { artifact: preview, strength: ctx.config.varyStrength } : null;
  const spec: JobSpec = { kind: 'vary', quality: 'draft', takes, source: { jobId: source.job.jobId, take }, image };
  const author = { id: ctx.user.id, name: ctx.user.name };
  const committed = await commitVersionWithJob(
    ctx,
    session.id,
    () => ({ prompt: parent.prompt, negativePrompt: parent.negativePrompt, seed, parent: parent.n, author, change: `variations of take ${take + 1} of v${parent.n} (seed ${source.take.seed} -> ${seed})` }),
    spec,
  );
  ctx.admission.submit(committed.session, committed.job);
  return { thread: session.thread, ephemeral: `v${committed.version.n} is rendering ${takes} variation${takes === 1 ? '' : 's'} of take ${take + 1}.` };
}

export async function extendTake(ctx: CommandContext, session: Session, take: number, frames: number | undefined, jobId?: string): Promise<EventOutcome> {
  const source = resolveTake(session, take, jobId);
  await spendRenderToken(ctx);
  const spec: JobSpec = {
    kind: 'extend',
    quality: 'draft',
    takes: session.settings.takes,
    seed: source.take.seed,
    source: { jobId: source.job.jobId, take },
    image: null,
    extend: { artifact: source.take.video, overlap: ctx.config.extendOverlap },
    frames: frames ?? ctx.config.defaultExtendFrames,
  };
  const { session: s, version, job } = await commitJob(ctx, session.id, source.job.version, spec);
  ctx.admission.submit(s, job);
  return { thread: session.thread, ephemeral: `Extending take ${take + 1} of v${version.n} by ${spec.frames} frames.` };
}

/** Cancels one job, or every unfinished job of the session when none is named. */
export async function cancelJobs(ctx: CommandContext, session: Session, jobId?: string): Promise<EventOutcome> {
  requireManager(session, ctx.user, 'cancel renders');
  const targets = jobId ? session.jobs.filter((j) => j.jobId === jobId) : session.jobs.filter((j) => !isTerminal(j.state));
  if (jobId && targets.length === 0) throw new DailiesError('not_found', 'That render is not part of this session; use the buttons on a newer message.');
  const open = targets.filter((j) => !isTerminal(j.state));
  if (open.length === 0) return { thread: session.thread, ephemeral: jobId ? 'That render has already finished; nothing to cancel.' : 'Nothing is rendering in this session; nothing to cancel.' };
  const by = { id: ctx.user.id, name: ctx.user.name };
  let cancelled = 0;
  for (const job of open) {
    // A queued job the queue does not know yet is still awaiting admission: cancelling it in the
    // store is enough, admission sees that and cancels it in the queue too.
    if (!(await ctx.queue.cancel(job.jobId)) && job.state !== 'queued') continue;
    cancelled++;
    // A waiting job will never start, so it ends here; a running one ends when the worker stops and the queue reports it.
    await ctx.store
      .update(session.id, (s, now) => {
        const latest = findJob(s, job.jobId);
        if (!latest || isTerminal(latest.state)) return { session: s, value: null };
        return { session: replaceJob(s, transitionJob(latest, latest.state === 'queued' ? 'cancelled' : latest.state, now, { cancelledBy: by }).job), value: null };
      })
      .catch((e: unknown) => ctx.log.warn(`could not record the cancel of ${job.jobId}`, e));
    void ctx.delivery.track(job.jobId).catch((e: unknown) => ctx.log.warn(`could not show job ${job.jobId}`, e));
  }
  if (cancelled === 0) return { thread: session.thread, ephemeral: 'Those renders have already finished; nothing to cancel.' };
  return { thread: session.thread, ephemeral: `Cancelled ${cancelled} render${cancelled === 1 ? '' : 's'}.` };
}
