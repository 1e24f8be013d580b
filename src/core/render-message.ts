import { describeFinding } from './ports/frame-check.ts';
import type { TakeResult, WithheldTake } from './ports/job-queue.ts';
import { creditsLine } from './credits.ts';
import type { Button, OutgoingAttachment, OutgoingMessage } from './ports/chat-adapter.ts';
import { actionKey } from './actions.ts';
import type { JobRecord, PromptVersion, Session, VoteRound } from './session.ts';
import { findJob, findVersion } from './session-state.ts';
import { tally } from './vote-round.ts';
import { clip } from './text.ts';
import { formatTakeRef } from './take-ref.ts';
import { clockText } from './clock-text.ts';

/**
 * Platform-neutral message texts and buttons. Plain text only (no markdown): Discord, Slack and
 * the local chat each format differently, and adapters may style buttons but not rewrite text.
 */

export interface ProgressView {
  position: number | null;
  etaMs: number | null;
  step: number;
  totalSteps: number;
  /** A chained render's segment k (1-based) of n; 0 of 0 for one-window renders. */
  segment: number;
  segments: number;
  startedAt: number | null;
  /** The newest preview, shown on the progress message until the job ends (one message per job, not one per preview). */
  preview?: PreviewView;
}

export interface PreviewView {
  step: number;
  totalSteps: number;
  /** Segment k of n of a chained render (n = 1 for one window). */
  segment: { k: number; n: number };
  attachments: OutgoingAttachment[];
  /** Previews too large to upload here. */
  skipped: number;
  /** Takes whose preview the frame check withheld. */
  withheld: number;
}

const BAR_CELLS = 10;

export function progressBar(fraction: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(f * BAR_CELLS);
  return `${'▰'.repeat(filled)}${'▱'.repeat(BAR_CELLS - filled)} ${Math.round(f * 100)}%`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function ordinal(n: number): string {
  const mod100 = n % 100;
  const suffix = mod100 >= 11 && mod100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

export function versionLine(version: PromptVersion): string {
  const origin = version.parent === null ? 'new' : `from v${version.parent}`;
  const shot = version.shot !== undefined ? `shot ${version.shot} · ` : '';
  return `${shot}v${version.n} (${origin}, ${version.author.name})${version.change ? `: ${version.change}` : ''}`;
}

/** The message a storyboard thread opens on. */
export function storyboardStartMessage(ownerName: string, shots: string[], style: string): OutgoingMessage {
  const lines = [`${ownerName} started a storyboard of ${shots.length} shot${shots.length === 1 ? '' : 's'}${style ? ` in "${clip(style, 120)}"` : ''}:`];
  shots.forEach((shot, i) => lines.push(`${i + 1}. ${clip(shot, 200)}`));
  lines.push('Vote on each shot\'s takes; reply shot N: <change> to revise a shot; /cut assembles the film from the winners.');
  return { text: lines.join('\n') };
}

/** The message a session thread opens on. */
export function startMessage(ownerName: string, prompt: string): OutgoingMessage {
  return {
    text: `${ownerName} started a video: "${clip(prompt, 300)}"\nReply in this thread to refine it (reply help for how); vote on the takes when they arrive.`,
  };
}

/** The version of the take a job was made from (its own version when it has no source). */
export function sourceVersion(session: Session, job: JobRecord): number {
  return job.source ? (findJob(session, job.source.jobId)?.version ?? job.version) : job.version;
}

function jobTitle(session: Session, job: JobRecord): string {
  const v = findVersion(session, job.version);
  const source = sourceVersion(session, job);
  const ref = `v${source}#${(job.source?.take ?? 0) + 1}`;
  const what: Record<JobRecord['kind'], string> = {
    render: `${job.takes} take${job.takes === 1 ? '' : 's'}`,
    vary: `${job.takes} variation${job.takes === 1 ? '' : 's'}`,
    // A finalize renders its source's version again, so the version line names it already.
    finalize: `Final of take ${(job.source?.take ?? 0) + 1}`,
    extend: `Extension of ${ref}`,
    bridge: `Bridge ${job.parts?.join(' -> ') ?? ''}`,
    cut: `Cut ${cutNumber(session, job)}`,
  };
  if (job.kind === 'cut') return [`${what.cut} · ${job.parts?.join(' · ') ?? ''}`].join('\n');
  const lines = [`${what[job.kind]} · ${v ? versionLine(v) : `v${job.version}`}`];
  if (v) lines.push(`"${clip(v.prompt, 200)}"${v.negativePrompt ? ` · not: "${clip(v.negativePrompt, 80)}"` : ''} · seed ${v.seed}`);
  return lines.join('\n');
}

export function progressMessage(session: Session, job: JobRecord, view: ProgressView, now: number): OutgoingMessage {
  const lines = [jobTitle(session, job)];
  const retry = job.attempt > 1 ? ` (attempt ${job.attempt})` : '';
  switch (job.state) {
    case 'queued':
      if (job.error) lines.push(`Retrying after an error: ${job.error.message}`);
      lines.push(
        view.position !== null
          ? `Queued${retry}: ${ordinal(view.position)} in line${view.etaMs !== null ? `, about ${formatDuration(view.etaMs)}` : ''}.`
          : `Queued${retry}.`,
      );
      break;
    case 'rendering':
    case 'previewed':
      if (view.totalSteps === 0) lines.push(`Starting${retry}…`);
      else if (view.segments > 1) {
        // The bar covers the whole chain; the step counts within the segment being rendered.
        const done = (view.segment - 1 + view.step / view.totalSteps) / view.segments;
        lines.push(`${progressBar(done)} · segment ${view.segment} of ${view.segments}, step ${view.step}/${view.totalSteps}${retry}`);
      } else lines.push(`${progressBar(view.step / view.totalSteps)} · step ${view.step}/${view.totalSteps}${retry}`);
      break;
    case 'done':
      lines.push(view.startedAt !== null ? `Done in ${formatDuration(now - view.startedAt)}.` : 'Done.');
      break;
    case 'failed':
      lines.push(`Failed: ${job.error?.message ?? 'the render did not finish'}`);
      break;
    case 'cancelled':
      lines.push(job.cancelledBy ? `Cancelled by ${job.cancelledBy.name}.` : 'Cancelled.');
      break;
  }
  const terminal = job.state === 'done' || job.state === 'failed' || job.state === 'cancelled';
  if (terminal) return { text: lines.join('\n') };
  // The newest preview rides on this message until the job ends; then the takes speak for it.
  const preview = view.preview;
  if (preview) lines.push(previewLine(preview));
  return {
    text: lines.join('\n'),
    ...(preview?.attachments.length ? { attachments: preview.attachments } : {}),
    buttons: [[{ action: actionKey({ type: 'cancel', jobId: job.jobId }), label: 'Cancel', style: 'danger' }]],
  };
}

/** "Preview at step 4/12", with what could not be shown. */
function previewLine(p: PreviewView): string {
  const notes = [
    ...(p.skipped > 0 ? [`${p.skipped} preview${p.skipped === 1 ? '' : 's'} too large to upload here`] : []),
    ...(p.withheld > 0 ? [`${p.withheld} preview${p.withheld === 1 ? '' : 's'} withheld by the frame check`] : []),
  ];
  const note = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  const where = p.segment.n > 1 ? `segment ${p.segment.k} of ${p.segment.n}, step ${p.step}/${p.totalSteps}` : `step ${p.step}/${p.totalSteps}`;
  return `Preview at ${where}${note}`;
}

export function takeMessage(session: Session, job: JobRecord, take: number, seed: number, round: VoteRound | null, attachment: OutgoingAttachment | null, note: string | null): OutgoingMessage {
  const text = `Take ${take + 1} of v${job.version} · seed ${seed}${note ? `\n${note}` : ''}`;
  const buttons: Button[] = [];
  if (round) {
    buttons.push({ action: actionKey({ type: 'vote', sessionId: session.id, roundId: round.id, take }), label: `Vote ${take + 1}`, style: 'primary' });
    buttons.push({ action: actionKey({ type: 'pick', sessionId: session.id, roundId: round.id, take }), label: 'Pick (owner)' });
  }
  buttons.push({ action: actionKey({ type: 'finalize', sessionId: session.id, jobId: job.jobId, take }), label: 'Finalize', style: 'success' });
  buttons.push({ action: actionKey({ type: 'vary', sessionId: session.id, jobId: job.jobId, take }), label: 'Vary' });
  buttons.push({ action: actionKey({ type: 'extend', sessionId: session.id, jobId: job.jobId, take }), label: 'Extend' });
  // A row of its own, apart from the everyday buttons: only moderators may use it.
  const moderation: Button[] = [{ action: actionKey({ type: 'remove', sessionId: session.id, jobId: job.jobId, take }), label: 'Remove', style: 'danger' }];
  return attachment ? { text, attachments: [attachment], buttons: [buttons, moderation] } : { text, buttons: [buttons, moderation] };
}

/**
 * What takes a removed take's place, and the place of every message that carried its files: the
 * take's post, its final, a film cut from it, the previews that showed it.
 */
export function removedNote(what: 'take' | 'final' | 'cut' | 'previews', session: Session, job: JobRecord, take: { version: number; index: number }, by: string): OutgoingMessage {
  const named = `take ${take.index + 1} of v${take.version}`;
  switch (what) {
    case 'take':
      return { text: `Take ${take.index + 1} of v${take.version} was removed by ${by}.` };
    case 'final':
      return { text: `The final of ${named} was removed by ${by}.` };
    case 'cut':
      return { text: `Cut ${cutNumber(session, job)} was removed by ${by}: it used ${formatTakeRef(take.version, take.index)}.` };
    case 'previews':
      return { text: `The previews here were removed by ${by} with ${named}.` };
  }
}

/** How /why and the audit log name a withheld take: "v1#2", "final of v1", "cut 2". */
export function withheldLabel(session: Session, job: JobRecord, index: number): string {
  if (job.kind === 'cut') return `cut ${cutNumber(session, job)}`;
  if (job.quality === 'final') return `final of v${sourceVersion(session, job)}`;
  return formatTakeRef(job.version, index);
}

/** "Take 2 was withheld by the frame check (porn 0.93 ≥ 0.80)." — the take itself is never posted. */
export function withheldMessage(session: Session, job: JobRecord, withheld: WithheldTake): OutgoingMessage {
  const what =
    job.kind === 'cut'
      ? `Cut ${cutNumber(session, job)}`
      : job.quality === 'final'
        ? `The final of v${sourceVersion(session, job)}`
        : `Take ${withheld.index + 1} of v${job.version}`;
  return { text: `${what} was withheld by the frame check (${describeFinding(withheld.finding)}); its files were never stored. A moderator can ask /why here.` };
}

/**
 * A final or a film. A signed one carries its Content Credentials line (who made it), with a
 * link to the credentials page when the server has a public address (`credentialsUrl`).
 */
export function finalMessage(session: Session, job: JobRecord, take: TakeResult, attachment: OutgoingAttachment | null, note: string | null, credentialsUrl: string | null = null): OutgoingMessage {
  const source = sourceVersion(session, job);
  const head =
    job.kind === 'cut'
      ? `Film · cut ${cutNumber(session, job)} · ${job.request?.cut?.transition ?? 'cut'}\n${(job.parts ?? []).join('\n')}`
      : `Final · take ${(job.source?.take ?? take.index) + 1} of v${source} · seed ${take.seed}`;
  const credits = take.signed && job.request?.credits ? `\n${creditsLine(job.request.credits)}${credentialsUrl ? ` · ${credentialsUrl}` : ''}` : '';
  const text = `${head}${credits}${note ? `\n${note}` : ''}`;
  return attachment ? { text, attachments: [attachment] } : { text };
}

/** 1-based number of a cut among the session's cuts. */
export function cutNumber(session: Session, job: JobRecord): number {
  return session.jobs.filter((j) => j.kind === 'cut').findIndex((j) => j.jobId === job.jobId) + 1;
}

function votes(n: number): string {
  return `${n} vote${n === 1 ? '' : 's'}`;
}

/** Names shown after a take's count; more than this and the rest are counted ("+2"). */
const VOTER_NAMES_SHOWN = 3;

/**
 * Who voted for take `take`, as the platform showed them when they voted: "Ana, Ben" or
 * "Ana, Ben, Cy +2". Everyone sees the same tally, so this is how a person finds their own vote
 * on Discord and Slack, whose buttons look the same to all; and a team reviewing dailies sees who
 * backs which take. Empty when no name was recorded.
 */
function voterNames(round: VoteRound, take: number): string {
  const names = Object.entries(round.votes)
    .filter(([, t]) => t === take)
    .map(([id]) => round.voterNames?.[id])
    .filter((name): name is string => Boolean(name));
  if (names.length === 0) return '';
  const more = names.length - VOTER_NAMES_SHOWN;
  return ` (${names.slice(0, VOTER_NAMES_SHOWN).join(', ')}${more > 0 ? ` +${more}` : ''})`;
}

export function roundMessage(session: Session, round: VoteRound): OutgoingMessage {
  const counts = tally(round);
  const tallyLine = counts.map((c, i) => `take ${i + 1}: ${round.removed?.includes(i) ? 'removed' : `${votes(c)}${voterNames(round, i)}`}`).join(' · ');
  const voters = Object.keys(round.votes).length;
  let status: string;
  if (round.closed) {
    const how = round.closed.reason === 'owner-pick' ? `picked by ${round.closed.by?.name ?? 'the owner'}` : round.closed.reason === 'quorum' ? 'quorum reached' : 'deadline passed';
    status = round.winner === null ? `Voting closed (${how}) with no winner.` : `Voting closed (${how}): take ${round.winner + 1} won and is the base of the next version.`;
  } else {
    const quorum = round.quorum > 0 ? ` · closes early at ${round.quorum} voters with a clear leader` : '';
    status = `Vote with the buttons on each take (${voters} voted${quorum}) · closes at ${clockText(round.deadline)}.`;
  }
  return {
    text: `Votes for v${round.version}: ${tallyLine}\n${status}`,
    buttons: [
      [
        { action: actionKey({ type: 'reroll', sessionId: session.id }), label: 'Reroll' },
        { action: actionKey({ type: 'edit-prompt', sessionId: session.id }), label: 'Edit prompt' },
      ],
    ],
  };
}

export function roundResultMessage(round: VoteRound): OutgoingMessage {
  if (round.winner === null) return { text: `Voting on v${round.version} closed with no votes; the owner can still pick a take.` };
  const n = tally(round)[round.winner] ?? 0;
  const how = round.closed?.reason === 'owner-pick' ? `picked by ${round.closed.by?.name ?? 'the owner'}` : `${votes(n)}`;
  return { text: `Take ${round.winner + 1} of v${round.version} wins (${how}). Replies now refine it; Finalize renders it at full quality.` };
}

export function historyText(session: Session): string {
  const lines = session.versions.map((v) => {
    const marker = v.n === session.current ? '▶ ' : '  ';
    return `${marker}${versionLine(v)}\n    "${clip(v.prompt, 160)}" · seed ${v.seed}`;
  });
  const base = session.base ? `\nNext version starts from take ${session.base.take + 1} of v${session.base.version} (seed ${session.base.seed}).` : '';
  return `Versions of this session (▶ current):\n${lines.join('\n')}${base}`;
}

export const GRAMMAR_HELP = [
  'Reply in this thread to make the next version:',
  '  <text>              revise the prompt: "on a blue background", "moving left", "blue ball" replace the matching part; anything else is added',
  '  prompt: <text>      replace the whole prompt',
  '  negative: <text>    set what to avoid (negative: none clears it)',
  '  seed: <number>      render with that seed',
  '  again               same prompt, new seed',
  '  from v2: <change>   start from an older version',
  '  takes: <1-4>        takes per render from now on',
  '  help                this text',
].join('\n');

/**
 * Help worded for where it was asked: in a channel, how to start (a session opens its own
 * thread); in a session's thread, what to do there first (reply, vote, finalize), then the rest.
 */
export function helpText(commands: ReadonlyArray<{ name: string; description: string }>, where: 'channel' | 'thread' = 'channel'): string {
  const list = commands.map((c) => `  /${c.name.padEnd(9)} ${c.description}`).join('\n');
  const votes = 'Vote with the buttons under the takes; the winner becomes the base of the next version. Moderators can remove a take with its Remove button or /remove v2#1: its files are deleted and its messages show a note.';
  if (where === 'thread') return `${GRAMMAR_HELP}\n\n${votes}\n\nCommands:\n${list}`;
  const start = 'Start with /video <prompt> (or /storyboard for a film of several shots): it opens a thread where the team refines the prompt, votes on the takes and finalizes the winner. /settings keeps your defaults; /gallery shows what this channel made.';
  return `${start}\n\nCommands:\n${list}\n\nIn a session's thread: ${GRAMMAR_HELP.charAt(0).toLowerCase()}${GRAMMAR_HELP.slice(1)}\n\n${votes}`;
}
