import { describe, expect, it } from 'vitest';
import type { JobRecord, Session } from '../../src/core/session.ts';
import { formatDuration, helpText, historyText, progressBar, progressMessage, roundMessage } from '../../src/core/render-message.ts';
import { addJob, appendVersion, createSession } from '../../src/core/session-state.ts';
import { openRound } from '../../src/core/vote-round.ts';

const ann = { id: 'a', name: 'Ann' };

function fixture(): { session: Session; job: JobRecord } {
  let s = createSession({ id: 's1', thread: { platform: 'local', channelId: 'c', threadId: 't' }, owner: ann, first: { prompt: 'a red ball', negativePrompt: '', seed: 7, author: ann, change: 'first version' }, settings: { takes: 2 } }, 0);
  s = appendVersion(s, { prompt: 'a red ball, at night', negativePrompt: 'blurry', seed: 7, parent: 1, author: { id: 'b', name: 'Bob' }, change: "added 'at night'" }, 1).session;
  const added = addJob(s, { jobId: 'j1', version: 2, kind: 'render', quality: 'draft', takes: 2, requestedBy: ann }, 2);
  return { session: added.session, job: added.job };
}

describe('message rendering', () => {
  it('draws a ten-cell progress bar', () => {
    expect(progressBar(0.5)).toBe('▰▰▰▰▰▱▱▱▱▱ 50%');
    expect(progressBar(0)).toBe('▱▱▱▱▱▱▱▱▱▱ 0%');
    expect(progressBar(1)).toBe('▰▰▰▰▰▰▰▰▰▰ 100%');
    expect(progressBar(1.7)).toBe('▰▰▰▰▰▰▰▰▰▰ 100%');
    expect(progressBar(Number.NaN)).toBe('▱▱▱▱▱▱▱▱▱▱ 0%');
  });

  it('formats durations', () => {
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(90_000)).toBe('2 min');
    expect(formatDuration(3 * 3600_000 + 5 * 60_000)).toBe('3 h 5 min');
  });

  it('shows the queue position, then the bar and step, then the end state', () => {
    const { session, job } = fixture();
    const view = { position: 3, etaMs: 60_000, step: 0, totalSteps: 0, segment: 0, segments: 0, startedAt: null };
    const queued = progressMessage(session, job, view, 0);
    expect(queued.text).toBe("2 takes · v2 (from v1, Bob): added 'at night'\n\"a red ball, at night\" · not: \"blurry\" · seed 7\nQueued: 3rd in line, about 1 min.");
    expect(queued.buttons).toEqual([[{ action: 'cancel:j1', label: 'Cancel', style: 'danger' }]]);
    const running = progressMessage(session, { ...job, state: 'rendering', attempt: 2 }, { ...view, step: 10, totalSteps: 20 }, 0);
    expect(running.text.split('\n')[2]).toBe('▰▰▰▰▰▱▱▱▱▱ 50% · step 10/20 (attempt 2)');
    const done = progressMessage(session, { ...job, state: 'done' }, { ...view, startedAt: 1000 }, 43_000);
    expect(done.text.endsWith('Done in 42 s.')).toBe(true);
    expect(done.buttons).toBeUndefined();
    expect(progressMessage(session, { ...job, state: 'failed', error: { code: 'x', message: 'Out of memory.' } }, view, 0).text).toMatch(/Failed: Out of memory\.$/);
    expect(progressMessage(session, { ...job, state: 'cancelled', cancelledBy: ann }, view, 0).text).toMatch(/Cancelled by Ann\.$/);
  });

  it('shows a chained render as segment k of n with one bar for the whole chain', () => {
    const { session, job } = fixture();
    const view = { position: null, etaMs: null, step: 5, totalSteps: 10, segment: 3, segments: 4, startedAt: 0 };
    const text = progressMessage(session, { ...job, state: 'rendering' }, view, 0).text;
    // (3 - 1 + 5/10) / 4 = 62.5% of the chain.
    expect(text.split('\n')[2]).toBe('▰▰▰▰▰▰▱▱▱▱ 63% · segment 3 of 4, step 5/10');
  });

  it('tallies votes and explains how the round closes', () => {
    const { session, job } = fixture();
    const opened = openRound({ ...session, jobs: [{ ...job, state: 'done' }] }, { jobId: 'j1', takes: 2, deadline: Date.UTC(2025, 0, 1, 14, 5), quorum: 3 }, 0);
    const round = { ...opened.round, votes: { a: 0, b: 0, c: 1 } };
    const open = roundMessage(opened.session, round);
    expect(open.text).toBe('Votes for v2: take 1: 2 votes · take 2: 1 vote\nVote with the buttons on each take (3 voted · closes early at 3 voters with a clear leader) · closes at 14:05 UTC.');
    expect(open.buttons?.flat().map((b) => b.action)).toEqual(['reroll:s1', 'edit-prompt:s1']);
    const closed = roundMessage(opened.session, { ...round, closed: { reason: 'owner-pick', at: 1, by: ann }, winner: 1 });
    expect(closed.text).toContain('Voting closed (picked by Ann): take 2 won');
  });

  it("names who voted for each take, as they were shown when voting, three then a count", () => {
    const { session, job } = fixture();
    const opened = openRound({ ...session, jobs: [{ ...job, state: 'done' }] }, { jobId: 'j1', takes: 3, deadline: Date.UTC(2025, 0, 1, 14, 5), quorum: 0 }, 0);
    const votes = { a: 0, b: 0, c: 0, d: 0, e: 0, f: 1, g: 1 };
    const voterNames = { a: 'Ana', b: 'Ben', c: 'Cy', d: 'Dee', e: 'Eli', f: 'Fay' }; // g voted before names were kept
    const text = roundMessage(opened.session, { ...opened.round, votes, voterNames }).text;
    expect(text.split('\n')[0]).toBe('Votes for v2: take 1: 5 votes (Ana, Ben, Cy +2) · take 2: 2 votes (Fay) · take 3: 0 votes');
  });

  it('lists the lineage with what changed', () => {
    const { session } = fixture();
    expect(historyText(session)).toBe('Versions of this session (▶ current):\n  v1 (new, Ann): first version\n    "a red ball" · seed 7\n▶ v2 (from v1, Bob): added \'at night\'\n    "a red ball, at night" · seed 7');
  });

  it('includes every command and the grammar in help, worded for where it is asked', () => {
    const text = helpText([{ name: 'video', description: 'Start.' }]);
    expect(text).toContain('/video');
    expect(text).toContain('from v2: <change>');
    expect(text.split('\n')[0]).toMatch(/^Start with \/video <prompt>/);
    const inThread = helpText([{ name: 'video', description: 'Start.' }], 'thread');
    expect(inThread.split('\n')[0]).toBe('Reply in this thread to make the next version:');
    expect(inThread).toContain('/video');
    expect(inThread).not.toContain('Start with /video');
  });
});
