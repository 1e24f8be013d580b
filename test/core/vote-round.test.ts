import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/core/session.ts';
import { addJob, createSession, replaceJob } from '../../src/core/session-state.ts';
import { castVote, closeExpiredRounds, deadlineWinner, openRound, pickWinner, soleLeader, tally } from '../../src/core/vote-round.ts';

const owner = { id: 'o', name: 'Owner' };
const T0 = 5_000_000;

function withRound(takes = 3, quorum = 3): Session {
  let s = createSession({ id: 's1', thread: { platform: 'local', channelId: 'c', threadId: 't' }, owner, first: { prompt: 'p', negativePrompt: '', seed: 10, author: owner, change: '' }, settings: { takes } }, T0);
  const added = addJob(s, { jobId: 'j1', version: 1, kind: 'render', quality: 'draft', takes, requestedBy: owner }, T0);
  s = replaceJob(added.session, { ...added.job, state: 'done', artifacts: Array.from({ length: takes }, (_, i) => ({ index: i, seed: 10 + i, video: { key: 'v', bytes: 1, contentType: 'video/mp4' }, preview: { key: 'p', bytes: 1, contentType: 'image/png' } })) });
  return openRound(s, { jobId: 'j1', takes, deadline: T0 + 1000, quorum }, T0).session;
}

function vote(s: Session, user: string, take: number, now = T0 + 1) {
  return castVote(s, 1, user, take, now);
}

describe('vote rounds', () => {
  it('opens one round per job with the next id', () => {
    const s = withRound();
    expect(s.rounds).toEqual([{ id: 1, jobId: 'j1', version: 1, takes: 3, votes: {}, deadline: T0 + 1000, quorum: 3, openedAt: T0, closed: null, winner: null }]);
    expect(openRound(s, { jobId: 'j1', takes: 3, deadline: 0, quorum: 0 }, T0)).toMatchObject({ opened: false, session: s });
  });

  it('keeps one vote per person and lets them change it', () => {
    let s = withRound(3, 0);
    s = vote(s, 'a', 0).session;
    const again = vote(s, 'a', 0);
    expect(again.result).toMatchObject({ accepted: true, previous: 0 });
    expect(again.session).toBe(s);
    const moved = vote(s, 'a', 2);
    expect(moved.result).toMatchObject({ accepted: true, previous: 0 });
    expect(tally(moved.session.rounds[0]!)).toEqual([0, 0, 1]);
  });

  it('refuses a take that does not exist', () => {
    expect(() => vote(withRound(), 'a', 3)).toThrow(/take 1 to 3/);
    expect(() => vote(withRound(), 'a', -1)).toThrow();
  });

  it('closes at quorum only with a single leader', () => {
    let s = withRound(3, 3);
    s = vote(s, 'a', 0).session;
    s = vote(s, 'b', 1).session;
    const tie = vote(s, 'c', 2);
    expect(tie.result).toMatchObject({ accepted: true, closedNow: false });
    s = tie.session;
    const lead = vote(s, 'd', 1);
    expect(lead.result).toMatchObject({ accepted: true, closedNow: true });
    expect(lead.session.rounds[0]).toMatchObject({ winner: 1, closed: { reason: 'quorum', at: T0 + 1 } });
    expect(lead.session.base).toEqual({ jobId: 'j1', version: 1, take: 1, seed: 11, roundId: 1 });
    const after = vote(lead.session, 'e', 0);
    expect(after.result).toMatchObject({ accepted: false });
    expect(tally(after.session.rounds[0]!)).toEqual([1, 2, 1]);
  });

  it('closes at the deadline on the next read, ties to the lowest take, none without votes', () => {
    let s = withRound(3, 0);
    s = vote(s, 'a', 2).session;
    s = vote(s, 'b', 1).session;
    expect(closeExpiredRounds(s, T0 + 999).closed).toEqual([]);
    const closed = closeExpiredRounds(s, T0 + 1000);
    expect(closed.closed).toHaveLength(1);
    expect(closed.session.rounds[0]).toMatchObject({ winner: 1, closed: { reason: 'deadline', at: T0 + 1000 } });
    const late = vote(s, 'c', 0, T0 + 5000);
    expect(late.result).toMatchObject({ accepted: false, closedNow: true });
    expect(late.result.accepted ? '' : late.result.reason).toMatch(/take 2 won/);

    const empty = closeExpiredRounds(withRound(), T0 + 2000).session;
    expect(empty.rounds[0]).toMatchObject({ winner: null, closed: { reason: 'deadline' } });
    expect(empty.base).toBeNull();
  });

  it('lets the owner pick, once, and even after a deadline that found no votes', () => {
    const picked = pickWinner(withRound(), 1, 2, owner, T0 + 5);
    expect(picked.round).toMatchObject({ winner: 2, closed: { reason: 'owner-pick', by: owner } });
    expect(picked.session.base?.seed).toBe(12);
    expect(() => pickWinner(picked.session, 1, 0, owner, T0 + 6)).toThrow(/take 3 won/);
    const noVotes = closeExpiredRounds(withRound(), T0 + 2000).session;
    expect(pickWinner(noVotes, 1, 0, owner, T0 + 2001).round).toMatchObject({ winner: 0, closed: { reason: 'owner-pick' } });
  });

  it('a pick after an unnoticed deadline reports the deadline result instead', () => {
    const s = vote(withRound(3, 0), 'a', 1).session;
    const res = pickWinner(s, 1, 0, owner, T0 + 5000);
    expect(res.round).toMatchObject({ winner: 1, closed: { reason: 'deadline' } });
  });

  it('computes leaders', () => {
    const r = { ...withRound().rounds[0]!, votes: { a: 0, b: 0, c: 1 } };
    expect(soleLeader(r)).toBe(0);
    expect(soleLeader({ ...r, votes: { a: 0, b: 1 } })).toBeNull();
    expect(deadlineWinner({ ...r, votes: { a: 2, b: 1 } })).toBe(1);
    expect(deadlineWinner({ ...r, votes: {} })).toBeNull();
  });
});
