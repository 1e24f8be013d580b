import { DailiesError } from '../errors.ts';
import type { Person, RoundCloseReason, Session, VoteRound } from './session.ts';
import { findJob, setBase } from './session-state.ts';

/**
 * Vote rounds, pure. Rules:
 * - one vote per person; voting again moves that person's vote;
 * - quorum: once `quorum` distinct people have voted AND one take leads alone, the round closes
 *   (a tie waits for another vote, the deadline or the owner);
 * - deadline: the first read or write at/after it closes the round; the winner is the take with
 *   most votes, a tie going to the lowest take number; no votes means no winner;
 * - owner pick closes the round with the owner's take (also after a deadline that found no votes).
 * The winner becomes the session's base: the next version starts from that take's seed.
 */

export interface OpenRoundInput {
  jobId: string;
  takes: number;
  /** Takes the frame check withheld: not posted, so nobody can vote for them. */
  withheld?: number[];
  /** Takes a moderator removed before the round opened. */
  removed?: number[];
  deadline: number;
  quorum: number;
}

/** Opens the round for a finished job, or returns the existing one (delivery may run twice). */
export function openRound(session: Session, input: OpenRoundInput, now: number): { session: Session; round: VoteRound; opened: boolean } {
  const existing = session.rounds.find((r) => r.jobId === input.jobId);
  if (existing) return { session, round: existing, opened: false };
  const job = findJob(session, input.jobId);
  if (!job) throw new DailiesError('not_found', `Job ${input.jobId} is not part of this session; use the buttons on a newer message.`);
  const round: VoteRound = {
    id: session.rounds.reduce((max, r) => Math.max(max, r.id), 0) + 1,
    jobId: input.jobId,
    version: job.version,
    takes: input.takes,
    ...(input.withheld?.length ? { withheld: [...input.withheld] } : {}),
    ...(input.removed?.length ? { removed: [...input.removed] } : {}),
    votes: {},
    deadline: input.deadline,
    quorum: Math.max(0, Math.floor(input.quorum)),
    openedAt: now,
    closed: null,
    winner: null,
  };
  return { session: { ...session, rounds: [...session.rounds, round] }, round, opened: true };
}

export function findRound(session: Session, id: number): VoteRound | undefined {
  return session.rounds.find((r) => r.id === id);
}

export function requireRound(session: Session, id: number): VoteRound {
  const round = findRound(session, id);
  if (!round) throw new DailiesError('not_found', `There is no vote round ${id} in this session; use the buttons on the newest takes.`);
  return round;
}

export function tally(round: VoteRound): number[] {
  const counts = Array.from({ length: round.takes }, () => 0);
  for (const take of Object.values(round.votes)) {
    if (take >= 0 && take < counts.length) counts[take] = (counts[take] ?? 0) + 1;
  }
  return counts;
}

/** The take with most votes if it leads alone, else null. */
export function soleLeader(round: VoteRound): number | null {
  const counts = tally(round);
  const max = Math.max(0, ...counts);
  if (max === 0) return null;
  const leaders = counts.flatMap((c, i) => (c === max ? [i] : []));
  return leaders.length === 1 ? (leaders[0] ?? null) : null;
}

/** Deadline rule: most votes, ties to the lowest take number, nothing when nobody voted. */
export function deadlineWinner(round: VoteRound): number | null {
  const counts = tally(round);
  const max = Math.max(0, ...counts);
  return max === 0 ? null : counts.indexOf(max);
}

export function isExpired(round: VoteRound, now: number): boolean {
  return round.closed === null && now >= round.deadline;
}

export type VoteResult =
  | { accepted: true; round: VoteRound; previous: number | null; closedNow: boolean }
  | { accepted: false; round: VoteRound; closedNow: boolean; reason: string };

function closed(round: VoteRound, reason: RoundCloseReason, at: number, winner: number | null, by?: Person): VoteRound {
  return { ...round, closed: by ? { reason, at, by } : { reason, at }, winner };
}

function withRound(session: Session, round: VoteRound): Session {
  let next: Session = { ...session, rounds: session.rounds.map((r) => (r.id === round.id ? round : r)) };
  if (round.closed && round.winner !== null) {
    const job = findJob(session, round.jobId);
    const take = job?.artifacts.find((t) => t.index === round.winner);
    if (job && take) next = setBase(next, { jobId: job.jobId, version: job.version, take: take.index, seed: take.seed, roundId: round.id });
  }
  return next;
}

function closedSentence(round: VoteRound): string {
  if (round.winner === null) return `Voting on v${round.version} has closed without a winner; the owner can still pick a take.`;
  return `Voting on v${round.version} has closed and take ${round.winner + 1} won; refine or finalize it.`;
}

/** Closes the round if its deadline has passed; otherwise returns the session unchanged. */
export function closeIfExpired(session: Session, roundId: number, now: number): { session: Session; round: VoteRound; closedNow: boolean } {
  const round = requireRound(session, roundId);
  if (!isExpired(round, now)) return { session, round, closedNow: false };
  const done = closed(round, 'deadline', round.deadline, deadlineWinner(round));
  return { session: withRound(session, done), round: done, closedNow: true };
}

/** Closes every round whose deadline has passed (the "check on read"). */
export function closeExpiredRounds(session: Session, now: number): { session: Session; closed: VoteRound[] } {
  let next = session;
  const closedNow: VoteRound[] = [];
  for (const r of session.rounds) {
    const res = closeIfExpired(next, r.id, now);
    next = res.session;
    if (res.closedNow) closedNow.push(res.round);
  }
  return { session: next, closed: closedNow };
}

export function castVote(session: Session, roundId: number, userId: string, take: number, now: number, name?: string): { session: Session; result: VoteResult } {
  const expiry = closeIfExpired(session, roundId, now);
  const round = expiry.round;
  if (round.closed) {
    return { session: expiry.session, result: { accepted: false, round, closedNow: expiry.closedNow, reason: closedSentence(round) } };
  }
  requireVotable(round, take, 'vote for');
  const previous = round.votes[userId] ?? null;
  if (previous === take) return { session, result: { accepted: true, round, previous, closedNow: false } };
  let next: VoteRound = { ...round, votes: { ...round.votes, [userId]: take }, ...(name ? { voterNames: { ...round.voterNames, [userId]: name } } : {}) };
  let closedNow = false;
  if (next.quorum > 0 && Object.keys(next.votes).length >= next.quorum) {
    const leader = soleLeader(next);
    if (leader !== null) {
      next = closed(next, 'quorum', now, leader);
      closedNow = true;
    }
  }
  return { session: withRound(session, next), result: { accepted: true, round: next, previous, closedNow } };
}

/**
 * The owner's (or a moderator's) pick. Permission is the caller's job; this only refuses a
 * round that already has a winner, so two clicks cannot pick two different takes.
 */
export function pickWinner(session: Session, roundId: number, take: number, by: Person, now: number): { session: Session; round: VoteRound; closedNow: boolean } {
  const expiry = closeIfExpired(session, roundId, now);
  const round = expiry.round;
  if (round.closed && round.winner !== null) {
    if (expiry.closedNow) return { session: expiry.session, round, closedNow: true };
    throw new DailiesError('conflict', closedSentence(round));
  }
  requireVotable(round, take, 'pick');
  const done = closed(round, 'owner-pick', now, take, by);
  return { session: withRound(expiry.session, done), round: done, closedNow: true };
}

function requireVotable(round: VoteRound, take: number, verb: string): void {
  if (!Number.isInteger(take) || take < 0 || take >= round.takes) {
    throw new DailiesError('bad_input', `There is no take ${take + 1} in this round; ${verb} take 1 to ${round.takes}.`);
  }
  if (round.withheld?.includes(take)) {
    throw new DailiesError('bad_input', `Take ${take + 1} was withheld by the frame check; ${verb} one of the posted takes.`);
  }
  if (round.removed?.includes(take)) {
    throw new DailiesError('bad_input', `Take ${take + 1} was removed by a moderator; ${verb} one of the posted takes.`);
  }
}

/**
 * Takes `take` out of the job's vote: it cannot be voted for or picked, and votes already cast for
 * it no longer count (those people may vote again). A round already closed keeps its result: the
 * winner was announced, and the removal note in the thread says what happened since.
 */
export function removeFromRound(round: VoteRound, take: number): VoteRound {
  if (round.removed?.includes(take)) return round;
  const votes = round.closed ? round.votes : Object.fromEntries(Object.entries(round.votes).filter(([, t]) => t !== take));
  return { ...round, removed: [...(round.removed ?? []), take], votes };
}

/** The round's result is posted; a no-op for an open or already announced round. */
export function markAnnounced(session: Session, roundId: number, now: number): Session {
  const round = requireRound(session, roundId);
  if (!round.closed || round.announcedAt) return session;
  return withRound(session, { ...round, announcedAt: now });
}

/**
 * Rounds the due index holds: open ones scored by their deadline, and closed ones whose result
 * is not posted yet scored by when they closed, so a close whose announcement was lost (the bot
 * died, or no adapter was up yet) is found again by the next sweep.
 */
export function roundsToWatch(session: Session): Array<{ round: VoteRound; score: number }> {
  return session.rounds.flatMap((round) => {
    if (!round.closed) return [{ round, score: round.deadline }];
    return round.announcedAt ? [] : [{ round, score: round.closed.at }];
  });
}

/** Rounds still open, with the earliest deadline first (the store's deadline index uses it). */
export function openRounds(session: Session): VoteRound[] {
  return session.rounds.filter((r) => r.closed === null).sort((a, b) => a.deadline - b.deadline);
}
