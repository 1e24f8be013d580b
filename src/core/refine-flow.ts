import { DailiesError } from '../errors.ts';
import type { CommandEvent, EventOutcome, IncomingAttachment } from './ports/chat-adapter.ts';
import type { ArtifactRef } from './ports/artifact-store.ts';
import type { CommandContext } from './command-context.ts';
import { deriveVersion, type FormEdit } from './apply-edit.ts';
import type { RefineEdit } from './refine-grammar.ts';
import { helpText, startMessage } from './render-message.ts';
import type { RenderSettings, Session } from './session.ts';
import { commitVersionWithJob, newJob, openThreadOnce, spendRender, withStyle } from './render-flow.ts';
import { sameTexts, screenPrompts } from './prompt-screen.ts';
import { clip } from './text.ts';
import { checkShotEdit } from './storyboard-flow.ts';
import { auditActor, auditPlace, recordAudit } from './audit.ts';
import { pickModel } from './model-choice.ts';

/** Starting a session (/video in a channel) and making its next versions (replies, /refine, forms, buttons). */

export interface StartInput {
  prompt: string;
  negativePrompt: string;
  seed?: number;
  takes: number;
  steps?: number;
  guidance?: number;
  frames?: number;
  image?: IncomingAttachment;
  strength: number;
  /** `model:` as typed; checked against the pool's models before anything is recorded. */
  model?: string;
  /** A clause added to every prompt of the session for the model, e.g. "pixel art" (a saved default). */
  style?: string;
  /** Which saved defaults the command used, for its answer (src/core/render-defaults.ts). */
  defaultsNote?: string;
}

async function intakeImage(ctx: CommandContext, attachment: IncomingAttachment): Promise<ArtifactRef> {
  if (!ctx.images) throw new DailiesError('unavailable', 'Animating an image is not enabled on this server; send the prompt without an image.');
  return ctx.images(attachment, ctx.event.platform);
}

export async function startSession(ctx: CommandContext, event: CommandEvent, input: StartInput): Promise<EventOutcome> {
  await screenPrompts(ctx, [{ prompt: withStyle(input.prompt, input.style), negativePrompt: input.negativePrompt }]);
  const settings: RenderSettings = { takes: input.takes };
  if (input.style !== undefined) settings.style = input.style;
  if (input.steps !== undefined) settings.steps = input.steps;
  if (input.guidance !== undefined) settings.guidance = input.guidance;
  if (input.frames !== undefined) settings.frames = input.frames;
  if (input.model !== undefined) settings.model = await pickModel(ctx, input.model);
  const spec = { kind: 'render' as const, quality: 'draft' as const, takes: input.takes };
  await spendRender(ctx, settings, spec);
  const image = input.image ? { artifact: await intakeImage(ctx, input.image), strength: input.strength } : undefined;
  const owner = { id: ctx.user.id, name: ctx.user.name };
  const thread = await openThreadOnce(ctx, event, startMessage(owner.name, input.prompt));
  if (image) settings.image = image;
  const first = { prompt: input.prompt, negativePrompt: input.negativePrompt, seed: input.seed ?? ctx.ids.seed(), author: owner, change: 'first version' };
  const session = await ctx.store.create({
    id: ctx.ids.sessionId(),
    thread,
    owner,
    first,
    settings,
    job: newJob(ctx, ctx.ids.jobId(), { n: 1, prompt: first.prompt, negativePrompt: first.negativePrompt, seed: first.seed }, settings, spec),
  });
  // The command is durable now; the queue's part follows the answer (see ./admission.ts).
  ctx.admission.submit(session, session.jobs[0]!);
  recordAudit(ctx.audit, { at: ctx.clock.now(), kind: 'prompt', ...auditPlace(thread, session.id), actor: auditActor(owner), what: `"${first.prompt}"${first.negativePrompt ? ` (avoid "${first.negativePrompt}")` : ''}${image ? ' from an image' : ''}`, jobId: session.jobs[0]!.jobId }, ctx.log);
  const on = settings.model ? ` on ${settings.model}` : '';
  const defaults = input.defaultsNote ? ` (${input.defaultsNote})` : '';
  return { thread, ephemeral: `Started "${clip(input.prompt)}" with ${input.takes} take${input.takes === 1 ? '' : 's'}${on} in a new thread${defaults}.` };
}

/** A seed source that replays the same seeds on every call, so a retried atomic write derives the same version. */
function replayableSeeds(ctx: CommandContext): () => () => number {
  const pool: number[] = [];
  return () => {
    let i = 0;
    return () => {
      if (pool[i] === undefined) pool[i] = ctx.ids.seed();
      return pool[i++] as number;
    };
  };
}

/** How much of a still survives when no strength is asked for (`/video strength:`). */
export const DEFAULT_IMAGE_STRENGTH = 0.7;

/** `image`: a still that reply (or `/video` in the thread) brings; it replaces the session's from this version on. */
export async function refineSession(ctx: CommandContext, session: Session, edit: RefineEdit | FormEdit, image?: { attachment: IncomingAttachment; strength?: number }): Promise<EventOutcome> {
  if (edit.kind === 'help') return { thread: session.thread, ephemeral: helpText(ctx.commands, 'thread') };
  if (edit.kind === 'takes') {
    await ctx.store.updateSettings(session.id, { takes: edit.takes });
    return { thread: session.thread, ephemeral: `From now on, renders in this session make ${edit.takes} take${edit.takes === 1 ? '' : 's'}.` };
  }
  // A session's still is shared by its versions, and a storyboard's versions are different shots.
  if (image && session.storyboard) throw new DailiesError('bad_input', 'A storyboard does not take an image; start a video with /video and the image instead.');
  if (session.storyboard) checkShotEdit(ctx, session, edit);
  const author = { id: ctx.user.id, name: ctx.user.name };
  const seeds = replayableSeeds(ctx);
  // The words of the session's model, through the catalog's short cache: one Redis read at most.
  const vocabulary = ctx.models ? await ctx.models.promptVocabulary(session.settings.model) : null;
  // Checked once before spending a rate token (terms, then the classifier), and the terms again
  // inside the atomic write. The classifier cannot run in there, so the write only goes ahead
  // with the very texts it read.
  const preview = deriveVersion(session, edit, { author, newSeed: seeds(), vocabulary });
  await screenPrompts(ctx, [{ prompt: styledPrompt(session, preview), negativePrompt: preview.negativePrompt }]);
  const spec = { kind: 'render' as const, quality: 'draft' as const, takes: session.settings.takes };
  await spendRender(ctx, session.settings, spec);
  const still = image && { image: { artifact: await intakeImage(ctx, image.attachment), strength: image.strength ?? session.settings.image?.strength ?? DEFAULT_IMAGE_STRENGTH } };
  const committed = await commitVersionWithJob(
    ctx,
    session.id,
    (s) => {
      const draft = deriveVersion(s, edit, { author, newSeed: seeds(), vocabulary });
      if (ctx.promptCheck && !sameTexts(draft, preview)) {
        throw new DailiesError('conflict', 'The prompt changed while your change was being checked; send it again to build on the new prompt.');
      }
      return draft;
    },
    spec,
    still,
  );
  ctx.admission.submit(committed.session, committed.job);
  return { thread: session.thread, ephemeral: `v${committed.version.n} is rendering: ${committed.version.change}.` };
}

/** The prompt a version renders with: a storyboard shot's carries the board's style. */
function styledPrompt(session: Session, draft: { prompt: string; shot?: number }): string {
  return session.storyboard && draft.shot !== undefined ? withStyle(draft.prompt, session.storyboard.style) : draft.prompt;
}
