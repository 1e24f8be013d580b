import { DailiesError } from '../errors.ts';
import type { EventOutcome, MessageRef, OutgoingMessage, ThreadRef } from './ports/chat-adapter.ts';
import { postKeyString } from './ports/session-store.ts';
import type { CommandContext } from './command-context.ts';
import type { JobRecord, Person, PostKey, RemovedTake, Session } from './session.ts';
import { findJob, findVersion, replaceJob } from './session-state.ts';
import { removeFromRound } from './vote-round.ts';
import { formatTakeRef, postedTake, type TakeRef } from './take-ref.ts';
import { cutNumber, removedNote } from './render-message.ts';
import { auditActor, auditPlace, recordAudit } from './audit.ts';

/**
 * A moderator removes a take: it leaves the vote and every command that names takes, its files
 * are deleted from the artifact store, and every message that carried them (the take's post, its
 * final, a film cut from it, the previews that showed it) is replaced by a note, its files removed
 * from the platform too.
 *
 * The order makes it safe to repeat: first one session write records what is removed with the
 * keys of its files (the take leaves `artifacts` in the same write, so nothing can use it from
 * then on), then the files are deleted and the messages replaced. Each of those steps is
 * idempotent, so pressing Remove twice, a retried delivery, or a bot that died half way and a
 * moderator who asks again all end in the same place.
 */

/** One thing the removal takes down: a draft take, or a final or film made from it. */
interface Removal {
  job: JobRecord;
  record: RemovedTake;
  what: 'take' | 'final' | 'cut';
  /** False when an earlier attempt already recorded it. */
  newly: boolean;
}

/** Finished drafts, newest first, counting those whose every take was removed. */
function finishedDrafts(session: Session): JobRecord[] {
  return [...session.jobs].reverse().filter((j) => j.state === 'done' && j.quality === 'draft' && (j.artifacts.length > 0 || (j.removed?.length ?? 0) > 0));
}

/** The draft take a reference (or a button's job and take) names, removed already or not. */
export function resolveRemovable(session: Session, ref: TakeRef, jobId?: string): { job: JobRecord; index: number } {
  let job: JobRecord | undefined;
  if (jobId) {
    job = findJob(session, jobId);
    if (!job || job.state !== 'done') throw new DailiesError('not_found', 'Those takes are not part of this session; use the buttons on a newer message.');
  } else if (ref.version === null) {
    job = finishedDrafts(session)[0];
    if (!job) throw new DailiesError('bad_input', 'This thread has no finished takes yet; wait for the render to finish.');
  } else {
    if (!findVersion(session, ref.version)) throw new DailiesError('bad_input', `There is no v${ref.version} in this thread; pick one of v1–v${session.versions.length}.`);
    job = finishedDrafts(session).find((j) => j.version === ref.version);
    if (!job) throw new DailiesError('bad_input', `v${ref.version} has no finished takes yet; wait for its render or pick another version.`);
  }
  // A take removed already is fine (the removal is finished again); anything else must be posted.
  if (!job.removed?.some((r) => r.index === ref.take)) postedTake(job, ref.take);
  return { job, index: ref.take };
}

/**
 * Records the removal of take `index` of `jobId` and of everything made from its files: finals
 * rendered from it and films cut from it (and, in turn, their finals). Pure; what was recorded
 * before is returned again with `newly: false`.
 */
export function markRemoved(session: Session, jobId: string, index: number, by: Person, now: number): { session: Session; removals: Removal[] } {
  let next = session;
  const removals: Removal[] = [];
  const source = findJob(session, jobId);
  if (!source) throw new DailiesError('not_found', 'Those takes are not part of this session; use the buttons on a newer message.');
  const label = formatTakeRef(source.version, index);
  const queue: Array<{ jobId: string; index: number; what: Removal['what'] }> = [{ jobId, index, what: 'take' }];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const item = queue.shift()!;
    if (seen.has(`${item.jobId}:${item.index}`)) continue;
    seen.add(`${item.jobId}:${item.index}`);
    const job = findJob(next, item.jobId);
    if (!job) continue;
    let record = job.removed?.find((r) => r.index === item.index);
    const newly = !record;
    const take = job.artifacts.find((t) => t.index === item.index);
    if (!record) {
      if (!take) continue; // never finished, or withheld: nothing of it was posted
      record = { index: item.index, by, at: now, files: [...new Set([take.video.key, take.preview.key])], ...(item.what !== 'take' ? { with: label } : {}) };
      next = replaceJob(next, { ...job, artifacts: job.artifacts.filter((t) => t !== take), removed: [...(job.removed ?? []), record] });
      next = { ...next, rounds: next.rounds.map((r) => (r.jobId === job.jobId ? removeFromRound(r, item.index) : r)) };
    }
    const current = findJob(next, item.jobId)!;
    removals.push({ job: current, record, what: item.what, newly });
    // What was made from these files: a final of this take, and films whose shots include its video.
    const videoKey = take?.video.key ?? record.files[0];
    for (const other of next.jobs) {
      const madeFrom = other.kind === 'finalize' && other.source?.jobId === item.jobId && other.source.take === item.index;
      const cutFrom = other.kind === 'cut' && videoKey !== undefined && (other.request?.cut?.shots.some((s) => s.artifact.key === videoKey) ?? false);
      if (!madeFrom && !cutFrom) continue;
      const indexes = [...other.artifacts.map((t) => t.index), ...(other.removed ?? []).map((r) => r.index)];
      for (const i of indexes) queue.push({ jobId: other.jobId, index: i, what: cutFrom ? 'cut' : 'final' });
    }
  }
  return { session: next, removals };
}

/** The posts that carry a removal's files, each with the note that takes its place. */
function postsToReplace(session: Session, removals: readonly Removal[], takeOf: { version: number; index: number }): Array<{ key: PostKey; note: OutgoingMessage }> {
  const out = new Map<string, { key: PostKey; note: OutgoingMessage }>();
  const add = (key: PostKey, note: OutgoingMessage) => {
    if (!out.has(postKeyString(key))) out.set(postKeyString(key), { key, note });
  };
  for (const r of removals) {
    const by = r.record.by.name;
    const kind = r.what === 'take' ? 'take' : 'final';
    add({ scope: r.job.jobId, kind, index: r.record.index }, removedNote(r.what, session, r.job, takeOf, by));
    for (const post of r.job.previewPosts ?? []) {
      // The progress message let go of its preview when the job ended: no post carries it now.
      if (post.onProgress) continue;
      // A draft's preview message shows every take; a final or a film has only its own.
      if (r.what === 'take' && !post.files.some((f) => f.take === r.record.index)) continue;
      add({ scope: r.job.jobId, kind: 'preview', index: post.index }, removedNote('previews', session, r.job, takeOf, by));
    }
  }
  return [...out.values()];
}

/** Artifact keys of every removed file: the takes' own files and their previews' files. */
function filesToDelete(removals: readonly Removal[]): string[] {
  const keys = new Set<string>();
  for (const r of removals) {
    for (const key of r.record.files) keys.add(key);
    for (const post of r.job.previewPosts ?? []) {
      for (const f of post.files) if (r.what !== 'take' || f.take === r.record.index) keys.add(f.key);
    }
  }
  return [...keys];
}

export async function removeTake(ctx: CommandContext, session: Session, ref: TakeRef, jobId?: string): Promise<EventOutcome> {
  if (ctx.user.canModerate !== true) {
    throw new DailiesError('forbidden', 'Only a moderator can remove a take; ask one of your server or workspace moderators.');
  }
  const artifacts = ctx.artifacts;
  if (!artifacts) throw new DailiesError('unavailable', 'Removing takes needs the artifact store, which this server was started without; ask the admin.');
  const target = resolveRemovable(session, ref, jobId);
  const by: Person = { id: ctx.user.id, name: ctx.user.name };
  const { session: updated, value: removals } = await ctx.store.update(session.id, (s, now) => {
    const { session: next, removals } = markRemoved(s, target.job.jobId, target.index, by, now);
    return { session: removals.some((r) => r.newly) ? next : s, value: removals };
  });
  const main = removals[0]!;
  const takeOf = { version: target.job.version, index: target.index };
  const named = formatTakeRef(takeOf.version, takeOf.index);

  await Promise.all(filesToDelete(removals).map((key) => artifacts.delete(key)));
  let replaced = 0;
  for (const { key, note } of postsToReplace(updated, removals, takeOf)) {
    if (await replacePost(ctx, updated.thread, key, note)) replaced++;
  }
  // Votes for the take no longer count: show the tally without them.
  for (const round of updated.rounds.filter((r) => r.jobId === target.job.jobId && !r.closed)) {
    void ctx.delivery.roundChanged(updated, round).catch((e: unknown) => ctx.log.warn('could not update the vote tally', e));
  }

  if (!main.newly) return { thread: session.thread, ephemeral: `${named} was already removed by ${main.record.by.name}; its files are deleted and its messages show the note.` };
  const also = removals.slice(1).map((r) => (r.what === 'cut' ? `cut ${cutNumber(updated, r.job)}` : `the final of ${named}`));
  const unique = [...new Set(also)];
  recordAudit(ctx.audit, { at: ctx.clock.now(), kind: 'removal', ...auditPlace(session.thread, session.id), actor: auditActor(by), what: `${named}${unique.length ? ` with ${unique.join(', ')}` : ''}`, jobId: target.job.jobId }, ctx.log);
  return { thread: session.thread, ephemeral: `Removed ${named}${unique.length ? ` with ${unique.join(' and ')}` : ''}: its files are deleted and ${replaced} message${replaced === 1 ? '' : 's'} now show${replaced === 1 ? 's' : ''} a note instead.` };
}

/**
 * Replaces one post by its note. A post never made (its job not delivered yet) is claimed and
 * posted as the note, so delivery will not post the take afterwards.
 */
async function replacePost(ctx: CommandContext, thread: ThreadRef, key: PostKey, note: OutgoingMessage): Promise<boolean> {
  const adapter = ctx.adapters(thread.platform);
  if (!adapter) throw new DailiesError('unavailable', `This server has no ${thread.platform} connection; ask the admin to configure it.`);
  const ref: MessageRef | null = await ctx.store.getPost(key);
  if (ref) {
    await adapter.replace(ref, note);
    return true;
  }
  const claim = await ctx.store.claimPost(key);
  if (!claim.claimed) {
    if (!claim.ref) return false; // being posted right now; the next attempt replaces it
    await adapter.replace(claim.ref, note);
    return true;
  }
  try {
    await ctx.store.recordPost(key, await adapter.post(thread, note, { key: postKeyString(key) }));
    return true;
  } catch (error) {
    await ctx.store.releasePost(key).catch(() => {});
    throw error;
  }
}
