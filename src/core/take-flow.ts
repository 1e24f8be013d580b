import { DailiesError } from '../errors.ts';
import type { EventOutcome } from './ports/chat-adapter.ts';
import type { TakeResult } from './ports/job-queue.ts';
import type { CommandContext } from './command-context.ts';
import { requireManager } from './permissions.ts';
import { creditsForTake } from './credits.ts';
import type { JobRecord, PromptVersion, Session } from './session.ts';
import { findJob, isTerminal, latestDoneDraft, replaceJob, requireVersion, transitionJob } from './session-state.ts';
import { commitJob, commitVersionWithJob, spendRender, withStyle, type JobSpec } from './render-flow.ts';
import { maxFramesOf, secondsText } from './runtime.ts';
import { formatTakeRef, postedTake, resolveTakeRef, type TakeRef } from './take-ref.ts';
import { auditActor, auditPlace, recordAudit } from './audit.ts';

/** Working from one take: finalize (owner/moderator), vary and extend (anyone), and cancelling jobs. */

/** The finished take `take` (0-based) of `jobId`, or of the newest finished draft when no job is named. */
export function resolveTake(session: Session, take: number, jobId?: string): { job: JobRecord; take: TakeResult } {
  const job = jobId ? findJob(session, jobId) : latestDoneDraft(session);
  if (!job) {
    throw new DailiesError('not_found', jobId ? 'Those takes are not part of this session; use the buttons on a newer message.' : 'This session has no finished takes yet; wait for the render to finish.');
  }
  if (job.state !== 'done') throw new DailiesError('conflict', `The takes of v${job.version} are not finished yet (${job.state}); wait for them.`);
  return { job, take: postedTake(job, take, 'plain') };
}

export async function finalizeTake(ctx: CommandContext, session: Session, take: number, jobId?: string): Promise<EventOutcome> {
  requireManager(session, ctx.user, 'finalize takes');
  const source = resolveTake(session, take, jobId);
  const existing = session.jobs.find((j) => j.kind === 'finalize' && j.source?.jobId === source.job.jobId && j.source.take === take && j.state !== 'failed' && j.state !== 'cancelled');
  if (existing) throw new DailiesError('conflict', `Take ${take + 1} of v${source.job.version} is already ${existing.state === 'done' ? 'finalized' : 'being finalized'}; look for the Final message in the thread.`);
  // The same video again at final quality: an extension, a bridge or a long chain keeps what it
  // was made from (its source video, its frames), not just its version's prompt.
  const made = source.job.request;
  const spec: JobSpec = {
    kind: 'finalize',
    quality: 'final',
    takes: 1,
    seed: source.take.seed,
    source: { jobId: source.job.jobId, take },
    image: made?.image ?? null,
    ...(made?.extend ? { extend: { ...made.extend, direction: made.extend.direction ?? 'forward' } } : {}),
    ...(made?.cut ? { cut: made.cut } : {}),
    ...(made?.frames !== undefined ? { frames: made.frames } : {}),
    ...(source.job.parts ? { parts: source.job.parts } : {}),
  };
  if (ctx.config.finalSteps !== undefined) spec.steps = ctx.config.finalSteps;
  spec.credits = creditsForTake(session, source.job.version, take, source.job.jobId, { id: ctx.user.id, name: ctx.user.name }, !ctx.config.creditNames);
  await spendRender(ctx, session.settings, spec);
  const { session: s, version, job } = await commitJob(ctx, session.id, source.job.version, spec);
  ctx.admission.submit(s, job);
  recordAudit(ctx.audit, { at: ctx.clock.now(), kind: 'finalize', ...auditPlace(session.thread, session.id), actor: auditActor(ctx.user), what: `take ${take + 1} of v${version.n}`, jobId: job.jobId }, ctx.log);
  return { thread: session.thread, ephemeral: `Finalizing take ${take + 1} of v${version.n}; the video will appear in the thread.` };
}

export async function varyTake(ctx: CommandContext, session: Session, take: number, takes: number, jobId?: string): Promise<EventOutcome> {
  const source = resolveTake(session, take, jobId);
  const parent = requireVersion(session, source.job.version);
  const seed = ctx.ids.seed();
  const preview = source.take.preview;
  // A take's preview image, when it is an image, steers the variations towards that take.
  const image = preview.contentType.startsWith('image/') ? { artifact: preview, strength: ctx.config.varyStrength } : null;
  const spec: JobSpec = { kind: 'vary', quality: 'draft', takes, source: { jobId: source.job.jobId, take }, image };
  await spendRender(ctx, session.settings, spec);
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

export type Direction = 'forward' | 'backward';

/** Frames in a finished take: what its result says, else what its request asked for. */
export function takeFrames(ctx: CommandContext, job: JobRecord, take: TakeResult): number {
  return take.frames ?? job.request?.frames ?? ctx.config.windowFrames;
}

/** Refuses a video longer than the server allows; `advice` gets the seconds still free (or null). */
function refuseOverLength(ctx: CommandContext, what: string, parts: number, added: number, advice: (room: string | null) => string): void {
  const max = maxFramesOf(ctx.config);
  if (parts + added <= max) return;
  const room = max - parts;
  throw new DailiesError('bad_input', `${what} would be ${secondsText(ctx.config, parts + added)} long, over the ${secondsText(ctx.config, max)} limit; ${advice(room >= 1 ? secondsText(ctx.config, room) : null)}.`);
}

/**
 * Makes a take longer: new frames after it (forward) or leading into it (backward). The result
 * is the whole video, kept as a new version whose parent is the take's version, so the lineage
 * shows where it came from and later extensions build on it.
 */
export async function extendTake(ctx: CommandContext, session: Session, from: { job: JobRecord; take: TakeResult }, frames: number, direction: Direction): Promise<EventOutcome> {
  const parent = requireVersion(session, from.job.version);
  const ref = formatTakeRef(from.job.version, from.take.index);
  refuseOverLength(ctx, `${ref} extended by ${secondsText(ctx.config, frames)}`, takeFrames(ctx, from.job, from.take), frames, (room) => (room ? `extend it by at most ${room}` : 'it is already as long as a video can be'));
  const spec: JobSpec = {
    kind: 'extend',
    quality: 'draft',
    takes: session.settings.takes,
    seed: from.take.seed,
    source: { jobId: from.job.jobId, take: from.take.index },
    image: null,
    extend: { artifact: from.take.video, overlap: ctx.config.extendOverlap, direction },
    frames,
  };
  await spendRender(ctx, session.settings, spec);
  const author = { id: ctx.user.id, name: ctx.user.name };
  const change = `${ref} extended ${direction} by ${secondsText(ctx.config, frames)}`;
  const committed = await commitVersionWithJob(
    ctx,
    session.id,
    () => ({ prompt: parent.prompt, negativePrompt: parent.negativePrompt, seed: from.take.seed, parent: parent.n, author, change, ...(parent.shot !== undefined ? { shot: parent.shot } : {}) }),
    spec,
  );
  ctx.admission.submit(committed.session, committed.job);
  return { thread: session.thread, ephemeral: `v${committed.version.n} is rendering: ${change}.` };
}

/**
 * Joins two takes with a generated transition whose first frames continue `from` and whose last
 * frames lead into `to`; the video posted is from + transition + to. The transition is rendered
 * with `to`'s prompt, since it ends in that shot.
 */
export async function bridgeTakes(ctx: CommandContext, session: Session, from: TakeRef, to: TakeRef, frames: number | undefined): Promise<EventOutcome> {
  const a = resolveTakeRef(session, from);
  const b = resolveTakeRef(session, to);
  const refA = formatTakeRef(a.job.version, a.take.index);
  const refB = formatTakeRef(b.job.version, b.take.index);
  if (a.job.jobId === b.job.jobId && a.take.index === b.take.index) throw new DailiesError('bad_input', `from and to are both ${refA}; bridge two different takes.`);
  const overlap = ctx.config.extendOverlap;
  const transition = frames ?? Math.max(1, ctx.config.windowFrames - 2 * overlap);
  refuseOverLength(ctx, `${refA} + a ${secondsText(ctx.config, transition)} bridge + ${refB}`, takeFrames(ctx, a.job, a.take) + takeFrames(ctx, b.job, b.take), transition, (room) => (room ? `make the bridge at most ${room} or bridge shorter takes` : 'bridge shorter takes'));
  const target = requireVersion(session, b.job.version);
  const source = requireVersion(session, a.job.version);
  const promptOf = (v: PromptVersion) => (session.storyboard && v.shot !== undefined ? withStyle(v.prompt, session.storyboard.style) : v.prompt);
  const spec: JobSpec = {
    kind: 'bridge',
    quality: 'draft',
    takes: 1,
    seed: b.take.seed,
    source: { jobId: a.job.jobId, take: a.take.index },
    image: null,
    cut: {
      shots: [
        { artifact: a.take.video, label: refA, prompt: promptOf(source) },
        { artifact: b.take.video, label: refB, prompt: promptOf(target) },
      ],
      transition: 'bridge',
      overlap,
    },
    parts: [refA, refB],
    frames: transition,
  };
  await spendRender(ctx, session.settings, spec);
  const author = { id: ctx.user.id, name: ctx.user.name };
  const change = `bridge ${refA} -> ${refB} (${secondsText(ctx.config, transition)})`;
  const committed = await commitVersionWithJob(
    ctx,
    session.id,
    () => ({ prompt: target.prompt, negativePrompt: target.negativePrompt, seed: b.take.seed, parent: target.n, author, change }),
    spec,
  );
  ctx.admission.submit(committed.session, committed.job);
  return { thread: session.thread, ephemeral: `v${committed.version.n} is rendering: ${change}.` };
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
    recordAudit(ctx.audit, { at: ctx.clock.now(), kind: 'cancel', ...auditPlace(session.thread, session.id), actor: auditActor(by), what: `v${job.version} (${job.kind}, ${job.state})`, jobId: job.jobId }, ctx.log);
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
