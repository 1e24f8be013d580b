import { DailiesError } from '../errors.ts';
import type { CutSpec, RenderRequest } from './ports/job-queue.ts';
import type { CommandEvent, OutgoingMessage, ThreadRef } from './ports/chat-adapter.ts';
import type { ArtifactRef } from './ports/artifact-store.ts';
import { rateLimitMessage } from '../safety/rate-limit.ts';
import { channelOf, eventOrigin, type CommandContext } from './command-context.ts';
import { auditActor, auditPlace, recordAudit } from './audit.ts';
import type { CoreConfig } from './runtime.ts';
import type { RenderCredits } from './credits.ts';
import type { JobKind, JobRecord, PromptVersion, RenderSettings, Session, VersionDraft } from './session.ts';
import { addJob, appendVersion, requireVersion, updateSettings, type NewJob } from './session-state.ts';
import { showThreadHeading } from './thread-heading.ts';

/**
 * Making render jobs: the job is recorded in the session together with the exact request the
 * queue will get, in one atomic write. Handing it to the queue is admission's (./admission.ts),
 * after the chat event has been answered.
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
  extend?: { artifact: ArtifactRef; overlap: number; direction: 'forward' | 'backward' };
  cut?: CutSpec;
  /** What a cut or bridge is made of, for its caption ("shot 2: v3#1"). */
  parts?: string[];
  frames?: number;
  steps?: number;
  /** A storyboard's style clause, added to the version's prompt for the model. */
  style?: string;
  /** A final's Content Credentials, signed into the video by the worker. */
  credits?: RenderCredits;
}

/**
 * What every render pays before anything is recorded: a token of the person's rate limit, then
 * its work against the person's and the channel's daily budgets (`specs`: the jobs it will make,
 * under `settings`). A refusal is one sentence, and nothing has been started.
 */
export async function spendRender(ctx: CommandContext, settings: RenderSettings, ...specs: JobSpec[]): Promise<void> {
  if (ctx.rateLimiter) {
    const decision = await ctx.rateLimiter.take(`${ctx.event.platform}:${ctx.user.id}`);
    if (!decision.allowed) throw new DailiesError('rate_limited', rateLimitMessage(decision.retryAfterMs));
  }
  if (ctx.quota) {
    // Only the shape of each request counts (takes, steps, frames), not its prompt.
    const requests = specs.map((spec) => renderRequestFor(ctx.config, settings, { prompt: '-', negativePrompt: '', seed: 0 }, spec));
    const decision = await ctx.quota.spend(quotaKeys(ctx), requests, ctx.clock.now());
    if (!decision.allowed) throw new DailiesError('rate_limited', decision.message);
  }
}

/** Whose budgets a render is charged to: the person, and the channel it was asked for in. */
export function quotaKeys(ctx: CommandContext): { person: string; channel: string } {
  return { person: `${ctx.event.platform}:${ctx.user.id}`, channel: channelOf(ctx) };
}

/** What the queue renders for `version` under the session's settings and the job's own spec. */
function renderRequestFor(config: CoreConfig, settings: RenderSettings, version: Pick<PromptVersion, 'prompt' | 'negativePrompt' | 'seed'>, spec: JobSpec): RenderRequest {
  const request: RenderRequest = {
    prompt: withStyle(version.prompt, spec.style ?? settings.style),
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
  // A chain's joins; extensions, bridges and cuts carry their own.
  if (frames !== undefined && frames > config.windowFrames && !spec.extend && !spec.cut) request.overlap = config.extendOverlap;
  const image = spec.image === undefined ? settings.image : spec.image;
  if (image) request.image = image;
  if (spec.extend) request.extend = spec.extend;
  if (spec.cut) request.cut = spec.cut;
  if (spec.credits) request.credits = spec.credits;
  return request;
}

/** A storyboard shot's prompt as the model gets it: the shot, then the board's style clause. */
export function withStyle(prompt: string, style: string | undefined): string {
  return style ? `${prompt}, ${style}` : prompt;
}

/** A new job for `version`, requested by the acting user, with the exact request it will render. */
export function newJob(ctx: CommandContext, jobId: string, version: Pick<PromptVersion, 'n' | 'prompt' | 'negativePrompt' | 'seed'>, settings: RenderSettings, spec: JobSpec): NewJob {
  return {
    jobId,
    version: version.n,
    kind: spec.kind,
    quality: spec.quality,
    takes: spec.takes,
    requestedBy: { id: ctx.user.id, name: ctx.user.name },
    origin: eventOrigin(ctx.event),
    ...(spec.source ? { source: spec.source } : {}),
    ...(spec.parts ? { parts: spec.parts } : {}),
    ...(settings.model ? { model: settings.model } : {}),
    request: renderRequestFor(ctx.config, settings, version, spec),
  };
}

/**
 * Appends a version and its job in ONE atomic store write: `derive` runs against the latest
 * session (a concurrent edit cannot make two versions share a parent state unnoticed) and the
 * policy is checked on exactly the prompt that gets stored. `settings` (a reply's new image)
 * change the session in the same write, for this version's job and the ones after it.
 */
export async function commitVersionWithJob(
  ctx: CommandContext,
  sessionId: string,
  derive: (session: Session) => VersionDraft,
  spec: JobSpec,
  settings?: Partial<RenderSettings>,
): Promise<{ session: Session; version: PromptVersion; job: JobRecord }> {
  const jobId = ctx.ids.jobId();
  const { session, value } = await ctx.store.update(sessionId, (latest, now) => {
    const s = settings ? updateSettings(latest, settings) : latest;
    const draft = derive(s);
    ctx.policy.assertAllowed(draft.prompt, draft.negativePrompt);
    const appended = appendVersion(s, draft, now);
    const added = addJob(appended.session, newJob(ctx, jobId, appended.version, s.settings, styled(s, appended.version, spec)), now);
    return { session: added.session, value: { version: appended.version, job: added.job } };
  });
  // Every new version is a revision in the audit log: replies, forms, vary, extend, bridge.
  const v = value.version;
  recordAudit(ctx.audit, { at: ctx.clock.now(), kind: 'revision', ...auditPlace(session.thread, session.id), actor: auditActor(ctx.user), what: `v${v.n}: ${v.change} → "${v.prompt}"${v.negativePrompt ? ` (avoid "${v.negativePrompt}")` : ''}`, jobId: value.job.jobId }, ctx.log);
  // The write made this version current: the thread's name and header follow it.
  showThreadHeading(ctx, session);
  return { session, ...value };
}

/** Adds a job for an existing version (finalize, extend) atomically. */
export async function commitJob(ctx: CommandContext, sessionId: string, versionN: number, spec: JobSpec): Promise<{ session: Session; version: PromptVersion; job: JobRecord }> {
  const jobId = ctx.ids.jobId();
  const { session, value } = await ctx.store.update(sessionId, (s, now) => {
    const version = requireVersion(s, versionN);
    const added = addJob(s, newJob(ctx, jobId, version, s.settings, styled(s, version, spec)), now);
    return { session: added.session, value: { version, job: added.job } };
  });
  return { session, ...value };
}

/** A storyboard shot's renders (vary, extend, finalize, revisions) keep the board's style. */
function styled(session: Session, version: PromptVersion, spec: JobSpec): JobSpec {
  if (spec.style !== undefined || !session.storyboard || version.shot === undefined) return spec;
  return { ...spec, style: session.storyboard.style };
}

/**
 * Opens a command's thread once, however often the command is delivered: a bot that dies after
 * the platform made the thread and before the session was written leaves the thread remembered
 * under the command's event (SessionStore.rememberThread), and the retry renders into it instead
 * of opening a second, empty-rooted one.
 */
export async function openThreadOnce(ctx: CommandContext, event: CommandEvent, message: OutgoingMessage): Promise<ThreadRef> {
  const origin = eventOrigin(event);
  const known = await ctx.store.threadOfOrigin(origin);
  if (known) return known;
  const { thread } = await ctx.startThread(event, message);
  await ctx.store.rememberThread(origin, thread, ctx.config.eventTtlMs);
  return thread;
}
