import { creditsForFilm } from './credits.ts';
import { DailiesError } from '../errors.ts';
import type { CommandEvent, EventOutcome } from './ports/chat-adapter.ts';
import type { CutShot, TakeResult } from './ports/job-queue.ts';
import type { CommandContext } from './command-context.ts';
import type { FormEdit } from './apply-edit.ts';
import type { RefineEdit } from './refine-grammar.ts';
import { storyboardStartMessage } from './render-message.ts';
import { commitJob, newJob, openThreadOnce, spendRender, withStyle, type JobSpec } from './render-flow.ts';
import { maxFramesOf, secondsText } from './runtime.ts';
import type { JobRecord, RenderSettings, Session } from './session.ts';
import { doneDrafts, requireVersion } from './session-state.ts';
import { tally } from './vote-round.ts';
import { formatTakeRef } from './take-ref.ts';
import { takeFrames } from './take-flow.ts';
import { MAX_PROMPT_CHARS, charCount, cleanText } from './text.ts';
import { auditActor, auditPlace, recordAudit } from './audit.ts';
import { screenPrompts } from './prompt-screen.ts';
import { pickModel } from './model-choice.ts';

/**
 * Storyboards: a thread of shots, each rendered as takes and voted on by itself, then cut into
 * one film from each shot's winning take. A shot is a prompt lineage like any other (revised with
 * `shot N: <change>`), so the shots' versions, votes and takes use the session machinery as is.
 */

export type Transition = 'cut' | 'fade' | 'bridge';

export interface StoryboardInput {
  shots: string[];
  style: string;
  negativePrompt: string;
  takes: number;
  /** New frames per shot; undefined: one model window. */
  frames?: number;
  seed?: number;
  /** `model:` as typed; checked against the pool's models before anything is recorded. */
  model?: string;
  steps?: number;
  /** Which saved defaults the command used, for its answer (src/core/render-defaults.ts). */
  defaultsNote?: string;
}

/** Splits `a | b | c` into shot prompts; each problem is one sentence naming the shot. */
export function parseShots(text: string, maxShots: number): string[] {
  const shots = text.split('|').map(cleanText);
  if (shots.length > maxShots) throw new DailiesError('bad_input', `A storyboard holds at most ${maxShots} shots and this one has ${shots.length}; split it into two storyboards.`);
  const empty = shots.findIndex((s) => s === '');
  if (empty >= 0) throw new DailiesError('bad_input', `Shot ${empty + 1} is empty; write a prompt between each pair of | signs.`);
  return shots;
}

function checkFilmLength(ctx: CommandContext, shots: number, framesPerShot: number): void {
  const total = shots * framesPerShot;
  if (total > maxFramesOf(ctx.config)) {
    throw new DailiesError(
      'bad_input',
      `${shots} shot${shots === 1 ? '' : 's'} of ${secondsText(ctx.config, framesPerShot)} make ${secondsText(ctx.config, total)}, over the ${ctx.config.maxSeconds} s limit for a film; use fewer shots or a shorter duration.`,
    );
  }
}

/** The policy reads the shot with its style (./prompt-screen.ts, run by the callers), as the model will. */
function checkShotLength(shot: number, prompt: string, style: string): void {
  const full = withStyle(prompt, style);
  if (charCount(full) > MAX_PROMPT_CHARS) {
    throw new DailiesError('bad_input', `Shot ${shot} with the style is ${charCount(full)} characters, over the ${MAX_PROMPT_CHARS} limit; shorten the shot or the style.`);
  }
}

export async function startStoryboard(ctx: CommandContext, event: CommandEvent, input: StoryboardInput): Promise<EventOutcome> {
  // 1. Check every shot before anything is created: a refusal leaves nothing half-made. The
  //    policy reads every shot in one call (terms, then the classifier).
  input.shots.forEach((prompt, i) => checkShotLength(i + 1, prompt, input.style));
  await screenPrompts(ctx, input.shots.map((prompt) => ({ prompt: withStyle(prompt, input.style), negativePrompt: input.negativePrompt })));
  checkFilmLength(ctx, input.shots.length, input.frames ?? ctx.config.windowFrames);
  const settings: RenderSettings = { takes: input.takes };
  if (input.frames !== undefined) settings.frames = input.frames;
  if (input.steps !== undefined) settings.steps = input.steps;
  if (input.model !== undefined) settings.model = await pickModel(ctx, input.model);
  const spec: JobSpec = { kind: 'render', quality: 'draft', takes: input.takes, style: input.style };
  await spendRender(ctx, settings, ...input.shots.map(() => spec));

  // 2. The thread, then every shot's version and first render in one store write.
  const owner = { id: ctx.user.id, name: ctx.user.name };
  const thread = await openThreadOnce(ctx, event, storyboardStartMessage(owner.name, input.shots, input.style));
  // One seed family for every shot, so the film keeps one look.
  const seed = input.seed ?? ctx.ids.seed();
  const drafts = input.shots.map((prompt, i) => ({ prompt, negativePrompt: input.negativePrompt, seed, author: owner, change: `shot ${i + 1}`, shot: i + 1 }));
  const jobFor = (i: number) => newJob(ctx, ctx.ids.jobId(), { n: i + 1, prompt: drafts[i]!.prompt, negativePrompt: input.negativePrompt, seed }, settings, spec);
  const session = await ctx.store.create({
    id: ctx.ids.sessionId(),
    thread,
    owner,
    first: drafts[0]!,
    settings,
    job: jobFor(0),
    storyboard: { style: input.style, shots: drafts.slice(1).map((version, i) => ({ version, job: jobFor(i + 1) })) },
  });

  // 3. The queue's part follows the answer (./admission.ts).
  for (const job of session.jobs) ctx.admission.submit(session, job);
  const shotList = input.shots.map((prompt, i) => `shot ${i + 1}: "${prompt}"`).join(' | ');
  recordAudit(ctx.audit, { at: ctx.clock.now(), kind: 'prompt', ...auditPlace(thread, session.id), actor: auditActor(owner), what: `storyboard ${shotList}${input.style ? ` (style "${input.style}")` : ''}${input.negativePrompt ? ` (avoid "${input.negativePrompt}")` : ''}` }, ctx.log);
  const n = input.shots.length;
  const defaults = input.defaultsNote ? ` (${input.defaultsNote})` : '';
  return { thread, ephemeral: `Started a storyboard of ${n} shot${n === 1 ? '' : 's'} with ${input.takes} take${input.takes === 1 ? '' : 's'} each in a new thread${defaults}; vote per shot, then /cut.` };
}

/** What a reply may do in a storyboard: revise or add a shot (besides help and takes). */
export function checkShotEdit(ctx: CommandContext, session: Session, edit: RefineEdit | FormEdit): void {
  const board = session.storyboard!;
  if (edit.kind !== 'shot') {
    throw new DailiesError('bad_input', `This thread is a storyboard: start a reply with shot N: to revise that shot (shots 1 to ${board.shots.length}), or shot ${board.shots.length + 1}: to add one.`);
  }
  if (edit.shot === board.shots.length + 1) {
    if (board.shots.length >= ctx.config.maxShots) throw new DailiesError('bad_input', `A storyboard holds at most ${ctx.config.maxShots} shots; revise one of them instead.`);
    checkFilmLength(ctx, board.shots.length + 1, session.settings.frames ?? ctx.config.windowFrames);
    const text = edit.then.kind === 'revise' ? edit.then.text : edit.then.kind === 'replace' ? edit.then.prompt : '';
    if (text) checkShotLength(edit.shot, text, board.style);
  }
}

export interface ShotPick {
  shot: number;
  job: JobRecord;
  take: TakeResult;
  votes: number;
}

/**
 * The take a cut uses for one shot: of its current version's newest finished takes, the take
 * with the most votes; a tie goes to the owner's pick (or vote), else the lowest take number.
 * Null while the shot has no finished take.
 */
export function winningTake(session: Session, shot: number): ShotPick | null {
  const n = session.storyboard!.shots[shot - 1]!;
  const job = doneDrafts(session).find((j) => j.version === n);
  if (!job) return null;
  const round = session.rounds.find((r) => r.jobId === job.jobId);
  const counts = round ? tally(round) : [];
  const votesFor = (index: number) => counts[index] ?? 0;
  const takes = [...job.artifacts].sort((a, b) => a.index - b.index);
  const most = Math.max(0, ...takes.map((t) => votesFor(t.index)));
  const leaders = takes.filter((t) => votesFor(t.index) === most);
  const ownerChoice = round?.closed?.reason === 'owner-pick' && round.winner !== null ? round.winner : round?.votes[session.owner.id];
  const take = (round?.closed?.reason === 'owner-pick' ? takes.find((t) => t.index === ownerChoice) : undefined) ?? leaders.find((t) => t.index === ownerChoice) ?? leaders[0]!;
  return { shot, job, take, votes: votesFor(take.index) };
}

function missingShots(session: Session, missing: number[]): string {
  const names = missing.map((shot) => {
    const n = session.storyboard!.shots[shot - 1]!;
    const open = session.jobs.some((j) => j.version === n && (j.state === 'queued' || j.state === 'rendering' || j.state === 'previewed'));
    return `shot ${shot} (${open ? `v${n} is rendering` : `v${n} has no finished take; revise it to render again`})`;
  });
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
  return `Not every shot has a finished take yet: ${list}; /cut again when they are done.`;
}

/** Assembles the film from each shot's winning take, in order, as the thread's final video. */
export async function cutFilm(ctx: CommandContext, session: Session, transition: Transition): Promise<EventOutcome> {
  const board = session.storyboard;
  if (!board) throw new DailiesError('bad_input', '/cut works in a storyboard thread (the thread /storyboard opens); this thread is a single video, so finalize a take instead.');
  // 1. Pick a take per shot; refuse while any shot has none.
  const picks = board.shots.map((_, i) => winningTake(session, i + 1));
  const missing = picks.flatMap((p, i) => (p ? [] : [i + 1]));
  if (missing.length > 0) throw new DailiesError('conflict', missingShots(session, missing));
  const chosen = picks as ShotPick[];

  // 2. The film's length, with any generated bridges.
  const overlap = ctx.config.extendOverlap;
  const bridgeFrames = Math.max(1, ctx.config.windowFrames - 2 * overlap);
  const shotsFrames = chosen.reduce((sum, p) => sum + takeFrames(ctx, p.job, p.take), 0);
  const total = shotsFrames + (transition === 'bridge' ? (chosen.length - 1) * bridgeFrames : 0);
  if (total > maxFramesOf(ctx.config)) {
    throw new DailiesError('bad_input', `The cut would be ${secondsText(ctx.config, total)} long, over the ${ctx.config.maxSeconds} s limit; cut with transition:cut or use shorter takes.`);
  }

  // 3. One job renders the film; its caption names the take used for each shot.
  const parts = chosen.map((p) => `shot ${p.shot}: ${formatTakeRef(p.job.version, p.take.index)}${p.votes > 0 ? ` (${p.votes} vote${p.votes === 1 ? '' : 's'})` : ''}`);
  const shots: CutShot[] = chosen.map((p) => ({
    artifact: p.take.video,
    label: formatTakeRef(p.job.version, p.take.index),
    prompt: withStyle(requireVersion(session, p.job.version).prompt, board.style),
  }));
  const spec: JobSpec = {
    kind: 'cut',
    quality: 'final',
    takes: 1,
    image: null,
    cut: { shots, transition, overlap },
    parts,
    ...(transition === 'bridge' ? { frames: bridgeFrames } : {}),
    credits: creditsForFilm(
      session,
      chosen.map((p) => ({ version: p.job.version, jobId: p.job.jobId, take: p.take.index })),
      { id: ctx.user.id, name: ctx.user.name },
      !ctx.config.creditNames,
    ),
  };
  await spendRender(ctx, session.settings, spec);
  const committed = await commitJob(ctx, session.id, session.current, spec);
  ctx.admission.submit(committed.session, committed.job);
  const cutNumber = committed.session.jobs.filter((j) => j.kind === 'cut').length;
  recordAudit(ctx.audit, { at: ctx.clock.now(), kind: 'finalize', ...auditPlace(session.thread, session.id), actor: auditActor(ctx.user), what: `cut ${cutNumber} (${transition}): ${parts.join(', ')}`, jobId: committed.job.jobId }, ctx.log);
  return { thread: session.thread, ephemeral: `Cut ${cutNumber} is rendering (${transition}): ${parts.join(', ')}.` };
}
