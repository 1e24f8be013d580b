import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import type { Person, Session } from '../../src/core/session.ts';
import { isDailiesError } from '../../src/errors.ts';
import type { SessionStore } from '../../src/core/ports/session-store.ts';

/**
 * One behaviour suite for every SessionStore. A backend passes a factory that builds a fresh,
 * empty store reading time from `now()`; `reopen` (when given) builds a second instance over the
 * same data, as a restarted bot would.
 */
export interface StoreFixture {
  store: SessionStore;
  reopen?: () => Promise<SessionStore>;
  cleanup(): Promise<void>;
}

export function runSessionStoreConformance(name: string, factory: (now: () => number) => Promise<StoreFixture>): void {
  describe(`SessionStore conformance: ${name}`, () => {
    let time = Date.UTC(2025, 0, 1);
    let fixture: StoreFixture;
    let store: SessionStore;
    const owner: Person = { id: 'u1', name: 'Ann' };
    let threadN = 0;
    const thread = (): ThreadRef => ({ platform: 'local', channelId: 'c1', threadId: `t${++threadN}` });

    beforeEach(async () => {
      time = Date.UTC(2025, 0, 1);
      fixture = await factory(() => time);
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    async function newSession(id = 's1', t: ThreadRef = thread()): Promise<Session> {
      return store.create({ id, thread: t, owner, first: { prompt: 'a red ball', negativePrompt: '', seed: 7, author: owner, change: 'first version' }, settings: { takes: 2 } });
    }

    async function sessionWithDoneJob(quorum = 3, takes = 2): Promise<Session> {
      await newSession();
      await store.addJob('s1', { jobId: 'j1', version: 1, kind: 'render', quality: 'draft', takes, requestedBy: owner });
      await store.transitionJob('j1', 'done', { artifacts: Array.from({ length: takes }, (_, i) => ({ index: i, seed: 7 + i, video: { key: `v${i}`, bytes: 1, contentType: 'video/mp4' }, preview: { key: `p${i}`, bytes: 1, contentType: 'image/png' } })) });
      return (await store.openRound('s1', { jobId: 'j1', takes, deadline: time + 60_000, quorum })).session;
    }

    async function code(p: Promise<unknown>): Promise<string> {
      try {
        await p;
        return 'resolved';
      } catch (e) {
        return isDailiesError(e) ? e.code : 'other';
      }
    }

    it('creates a session with v1 and finds it by id and by thread', async () => {
      const t = thread();
      const created = await newSession('s1', t);
      expect(created.versions).toEqual([{ n: 1, prompt: 'a red ball', negativePrompt: '', seed: 7, parent: null, author: owner, createdAt: time, change: 'first version' }]);
      expect(created.current).toBe(1);
      expect(created.channelKey).toBe('local:c1');
      expect(await store.get('s1')).toEqual(created);
      expect(await store.getByThread(t)).toEqual(created);
      expect(await store.get('nope')).toBeNull();
      expect(await store.getByThread({ ...t, threadId: 'other' })).toBeNull();
    });

    it('refuses a second session on the same thread and a duplicate id', async () => {
      const t = thread();
      await newSession('s1', t);
      expect(await code(newSession('s2', t))).toBe('conflict');
      expect(await code(newSession('s1'))).toBe('conflict');
      expect(await store.get('s2')).toBeNull();
    });

    it('appends versions with store-assigned numbers, also when ten arrive at once', async () => {
      await newSession();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.appendVersion('s1', (s) => ({ prompt: `p${i}`, negativePrompt: '', seed: i, parent: s.current, author: owner, change: `edit ${i}` }))),
      );
      expect(results.map((r) => r.version.n).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const s = (await store.get('s1'))!;
      expect(s.versions).toHaveLength(11);
      expect(new Set(s.versions.map((v) => v.prompt)).size).toBe(11);
      expect(s.current).toBe(11);
      // each version's parent existed when it was derived
      for (const v of s.versions.slice(1)) expect(v.parent).toBe(v.n - 1);
    });

    it('rejects unknown sessions and parents', async () => {
      expect(await code(store.appendVersion('missing', { prompt: 'x', negativePrompt: '', seed: 1, parent: null, author: owner, change: '' }))).toBe('not_found');
      await newSession();
      expect(await code(store.appendVersion('s1', { prompt: 'x', negativePrompt: '', seed: 1, parent: 9, author: owner, change: '' }))).toBe('not_found');
    });

    it('finds the session of the chat event that asked for a job, in the write that recorded it', async () => {
      const t = thread();
      await store.create({ id: 's1', thread: t, owner, first: { prompt: 'a fox', negativePrompt: '', seed: 1, author: owner, change: 'first version' }, settings: { takes: 1 }, job: { jobId: 'j1', version: 1, kind: 'render', quality: 'draft', takes: 1, requestedBy: owner, origin: 'discord:cmd-1' } });
      expect((await store.getByOrigin('discord:cmd-1'))?.id).toBe('s1');
      expect(await store.getByOrigin('discord:cmd-2')).toBeNull();
      await store.addJob('s1', { jobId: 'j2', version: 1, kind: 'render', quality: 'draft', takes: 1, requestedBy: owner, origin: 'discord:reply-7' });
      const found = await store.getByOrigin('discord:reply-7');
      expect(found?.jobs.find((j) => j.origin === 'discord:reply-7')?.jobId).toBe('j2');
      // A job asked for by no event (none recorded) indexes nothing.
      await store.addJob('s1', { jobId: 'j3', version: 1, kind: 'render', quality: 'draft', takes: 1, requestedBy: owner });
      expect((await store.get('s1'))?.jobs.find((j) => j.jobId === 'j3')?.origin).toBeUndefined();
    });

    it('indexes jobs and walks their lifecycle, refusing illegal steps', async () => {
      await newSession();
      await store.addJob('s1', { jobId: 'j1', version: 1, kind: 'render', quality: 'draft', takes: 2, requestedBy: owner });
      expect(await code(store.addJob('s1', { jobId: 'j1', version: 1, kind: 'render', quality: 'draft', takes: 2, requestedBy: owner }))).toBe('conflict');
      expect((await store.getByJob('j1'))?.id).toBe('s1');
      expect(await store.getByJob('j-unknown')).toBeNull();
      expect((await store.transitionJob('j1', 'rendering', { attempt: 1 })).job.state).toBe('rendering');
      const again = await store.transitionJob('j1', 'rendering');
      expect(again.changed).toBe(false);
      expect((await store.transitionJob('j1', 'previewed')).job.state).toBe('previewed');
      expect((await store.transitionJob('j1', 'done', { artifacts: [] })).job.state).toBe('done');
      expect(await code(store.transitionJob('j1', 'rendering'))).toBe('conflict');
      expect(await code(store.transitionJob('j-unknown', 'rendering'))).toBe('not_found');
      await store.addJob('s1', { jobId: 'j2', version: 1, kind: 'render', quality: 'draft', takes: 1, requestedBy: owner });
      const skipped = await store.transitionJob('j2', 'done', { artifacts: [] });
      expect(skipped.job.state).toBe('done');
    });

    it('writes nothing when a mutation changes nothing', async () => {
      await newSession();
      const before = (await store.get('s1'))!.rev;
      await store.update('s1', (s) => ({ session: s, value: 1 }));
      await store.closeExpired('s1');
      expect((await store.get('s1'))!.rev).toBe(before);
      await store.updateSettings('s1', { takes: 3 });
      const after = (await store.get('s1'))!;
      expect(after.rev).toBe(before + 1);
      expect(after.settings.takes).toBe(3);
    });

    it('keeps one vote per person, lets people change it, and refuses votes after closing', async () => {
      await sessionWithDoneJob(0);
      await store.recordVote('s1', 1, 'a', 0);
      await store.recordVote('s1', 1, 'b', 1);
      const changed = await store.recordVote('s1', 1, 'a', 1);
      expect(changed.result).toMatchObject({ accepted: true, previous: 0 });
      expect((await store.get('s1'))!.rounds[0]!.votes).toEqual({ a: 1, b: 1 });
      expect(await code(store.recordVote('s1', 1, 'c', 5))).toBe('bad_input');
      expect(await code(store.recordVote('s1', 9, 'c', 0))).toBe('not_found');
      time += 60_000;
      const late = await store.recordVote('s1', 1, 'c', 0);
      expect(late.result).toMatchObject({ accepted: false, closedNow: true });
      const s = (await store.get('s1'))!;
      expect(s.rounds[0]).toMatchObject({ winner: 1, closed: { reason: 'deadline' } });
      expect(s.rounds[0]!.votes).toEqual({ a: 1, b: 1 });
      expect(s.base).toMatchObject({ jobId: 'j1', take: 1, seed: 8, version: 1 });
    });

    it('counts twenty people voting at the same moment', async () => {
      await sessionWithDoneJob(0, 4);
      const voters = Array.from({ length: 20 }, (_, i) => `user${i}`);
      const results = await Promise.all(voters.map((u, i) => store.recordVote('s1', 1, u, i % 4)));
      expect(results.every((r) => r.result.accepted)).toBe(true);
      const round = (await store.get('s1'))!.rounds[0]!;
      expect(Object.keys(round.votes).sort()).toEqual([...voters].sort());
      expect(Object.values(round.votes).filter((t) => t === 0)).toHaveLength(5);
    });

    it('closes at quorum when one take leads, and waits on a tie', async () => {
      await sessionWithDoneJob(2);
      await store.recordVote('s1', 1, 'a', 0);
      const tie = await store.recordVote('s1', 1, 'b', 1);
      expect(tie.result).toMatchObject({ accepted: true, closedNow: false });
      const win = await store.recordVote('s1', 1, 'c', 1);
      expect(win.result).toMatchObject({ accepted: true, closedNow: true });
      const s = (await store.get('s1'))!;
      expect(s.rounds[0]).toMatchObject({ winner: 1, closed: { reason: 'quorum' } });
      // Listed until its result is announced, then never again.
      expect(await store.dueRounds(time)).toEqual([{ sessionId: 's1', roundId: 1 }]);
      await store.markAnnounced('s1', 1);
      expect(await store.dueRounds(time + 10 * 60_000)).toEqual([]);
    });

    it('lets the owner pick once, records who picked, and makes the pick the base', async () => {
      await sessionWithDoneJob(0);
      await store.recordVote('s1', 1, 'a', 0);
      const picked = await store.closeRound('s1', 1, { take: 1, by: owner });
      expect(picked.round).toMatchObject({ winner: 1, closed: { reason: 'owner-pick', by: owner } });
      expect(await code(store.closeRound('s1', 1, { take: 0, by: owner }))).toBe('conflict');
      expect((await store.get('s1'))!.base).toMatchObject({ take: 1, seed: 8 });
    });

    it('lists rounds past their deadline, and closed rounds until their result is announced', async () => {
      await sessionWithDoneJob(0);
      expect(await store.dueRounds(time)).toEqual([]);
      expect(await store.dueRounds(time + 60_000)).toEqual([{ sessionId: 's1', roundId: 1 }]);
      time += 60_000;
      const { closed } = await store.closeExpired('s1');
      expect(closed.map((r) => r.id)).toEqual([1]);
      // Closed but its result never posted (the bot died, or no adapter was up): still listed.
      const reopened = fixture.reopen ? await fixture.reopen() : store;
      expect(await reopened.dueRounds(time)).toEqual([{ sessionId: 's1', roundId: 1 }]);
      await store.markAnnounced('s1', 1);
      expect(await store.dueRounds(time + 3_600_000)).toEqual([]);
      expect((await store.get('s1'))!.rounds[0]!.announcedAt).toBe(time);
    });

    it('lists a round closed early by a pick at once, not at its old deadline', async () => {
      await sessionWithDoneJob();
      await store.closeRound('s1', 1, { take: 0, by: owner });
      expect(await store.dueRounds(time)).toEqual([{ sessionId: 's1', roundId: 1 }]);
      await store.markAnnounced('s1', 1);
      expect(await store.dueRounds(time + 3_600_000)).toEqual([]);
    });

    it('lists every job until its end is delivered, oldest first, across sessions and restarts', async () => {
      const job = (jobId: string) => ({ jobId, version: 1, kind: 'render' as const, quality: 'draft' as const, takes: 1, requestedBy: owner });
      await newSession('s1');
      await store.addJob('s1', job('j1'));
      time += 1000;
      await newSession('s2');
      await store.addJob('s2', job('j2'));
      time += 1000;
      await store.addJob('s1', job('j3'));
      expect(await store.undelivered()).toEqual([
        { sessionId: 's1', jobId: 'j1' },
        { sessionId: 's2', jobId: 'j2' },
        { sessionId: 's1', jobId: 'j3' },
      ]);
      expect(await store.undelivered(1, 1)).toEqual([{ sessionId: 's2', jobId: 'j2' }]);
      // Marking an unfinished job delivered changes nothing: its end is still to come.
      await store.markDelivered('j1');
      expect(await store.undelivered()).toHaveLength(3);
      await store.transitionJob('j1', 'failed', { error: { code: 'internal', message: 'boom' } });
      await store.transitionJob('j2', 'done');
      expect(await store.undelivered()).toHaveLength(3);
      await store.markDelivered('j1');
      await store.markDelivered('j2');
      await store.markDelivered('unknown-job');
      const reopened = fixture.reopen ? await fixture.reopen() : store;
      expect(await reopened.undelivered()).toEqual([{ sessionId: 's1', jobId: 'j3' }]);
      expect((await store.get('s1'))!.jobs[0]!.deliveredAt).toBe(time);
    });

    it('lists queued jobs awaiting admission across sessions, oldest first, until admitted or no longer queued', async () => {
      const request = { prompt: 'a red ball', negativePrompt: '', seed: 7, takes: 2, quality: 'draft' as const };
      const job = (jobId: string) => ({ jobId, version: 1, kind: 'render' as const, quality: 'draft' as const, takes: 2, requestedBy: owner, request });
      await store.create({ id: 's1', thread: thread(), owner, first: { prompt: 'a red ball', negativePrompt: '', seed: 7, author: owner, change: 'first version' }, settings: { takes: 2 }, job: job('j1') });
      const t1 = time;
      time += 1000;
      await store.create({ id: 's2', thread: thread(), owner, first: { prompt: 'a cat', negativePrompt: '', seed: 8, author: owner, change: 'first version' }, settings: { takes: 2 }, job: job('j2') });
      time += 1000;
      await store.addJob('s1', job('j3'));
      // Jobs recorded without their request (older data) can never be admitted later: not listed.
      await store.addJob('s2', { jobId: 'j4', version: 1, kind: 'render', quality: 'draft', takes: 2, requestedBy: owner });
      expect(await store.awaitingAdmission(t1)).toEqual([{ sessionId: 's1', jobId: 'j1' }]);
      expect(await store.awaitingAdmission(time)).toEqual([
        { sessionId: 's1', jobId: 'j1' },
        { sessionId: 's2', jobId: 'j2' },
        { sessionId: 's1', jobId: 'j3' },
      ]);
      expect(await store.awaitingAdmission(time, 1)).toHaveLength(1);
      expect((await store.get('s1'))!.jobs[0]!.request).toEqual(request);
      expect(await store.admitted('s1', 'j1')).toBe(true);
      expect(await store.admitted('s1', 'j1')).toBe(false);
      await store.transitionJob('j2', 'cancelled');
      // Still queued but not yet admitted: a restarted bot would find it.
      const reopened = fixture.reopen ? await fixture.reopen() : store;
      expect(await reopened.awaitingAdmission(time)).toEqual([{ sessionId: 's1', jobId: 'j3' }]);
      expect(await store.admitted('s2', 'j2')).toBe(false);
    });

    it('opens one round per job however often it is asked', async () => {
      await sessionWithDoneJob(0);
      const again = await store.openRound('s1', { jobId: 'j1', takes: 2, deadline: time + 1, quorum: 1 });
      expect(again.opened).toBe(false);
      expect((await store.get('s1'))!.rounds).toHaveLength(1);
    });

    it('remembers the thread a command opened, by its event, until the time given', async () => {
      const t = thread();
      expect(await store.threadOfOrigin('slack:evt-1')).toBeNull();
      await store.rememberThread('slack:evt-1', t, 40);
      expect(await store.threadOfOrigin('slack:evt-1')).toEqual(t);
      expect(await store.threadOfOrigin('slack:evt-2')).toBeNull();
      time += 100;
      await new Promise((r) => setTimeout(r, 100));
      expect(await store.threadOfOrigin('slack:evt-1')).toBeNull();
    });

    it('claims an event id once until it expires', async () => {
      expect(await store.claimEvent('discord:1', 40)).toBe(true);
      expect(await store.claimEvent('discord:1', 40)).toBe(false);
      expect(await store.claimEvent('discord:2', 40)).toBe(true);
      time += 100;
      await new Promise((r) => setTimeout(r, 100));
      expect(await store.claimEvent('discord:1', 40)).toBe(true);
    });

    it('holds a confirmed event for the long ttl, and lets a lapsed unconfirmed claim be taken again', async () => {
      // Handled: confirmed for a day, so a redelivery after the short claim is still a duplicate.
      expect(await store.claimEvent('slack:handled', 40)).toBe(true);
      await store.confirmEvent('slack:handled', 86_400_000);
      // The handler died before confirming: its claim lapses and a retry runs.
      expect(await store.claimEvent('slack:crashed', 40)).toBe(true);
      time += 100;
      await new Promise((r) => setTimeout(r, 100));
      expect(await store.claimEvent('slack:handled', 40)).toBe(false);
      expect(await store.claimEvent('slack:crashed', 40)).toBe(true);
      // Confirming a claim that already lapsed does not resurrect it.
      await store.confirmEvent('slack:never-claimed', 86_400_000);
      expect(await store.claimEvent('slack:never-claimed', 40)).toBe(true);
    });

    it('claims each post once, keeps its ref, and releases only unposted claims', async () => {
      const key = { scope: 'j1', kind: 'take', index: 0 };
      const ref = { thread: thread(), messageId: 'm1' };
      expect(await store.claimPost(key)).toEqual({ claimed: true });
      expect(await store.claimPost(key)).toEqual({ claimed: false, ref: null });
      await store.recordPost(key, ref);
      expect(await store.claimPost(key)).toEqual({ claimed: false, ref });
      expect(await store.getPost(key)).toEqual(ref);
      await store.releasePost(key);
      expect(await store.getPost(key)).toEqual(ref);
      const other = { scope: 'j1', kind: 'take', index: 1 };
      await store.claimPost(other);
      await store.releasePost(other);
      expect(await store.claimPost(other)).toEqual({ claimed: true });
    });

    it('lets a post claim be taken over once its lease runs out without a recorded post', async () => {
      const key = { scope: 'j9', kind: 'final', index: 0 };
      expect(await store.claimPost(key)).toEqual({ claimed: true });
      // The claimer died before posting: others wait out its lease, then post it themselves.
      time += 119_000;
      expect(await store.claimPost(key)).toEqual({ claimed: false, ref: null });
      time += 2_000;
      expect(await store.claimPost(key)).toEqual({ claimed: true });
      expect(await store.claimPost(key)).toEqual({ claimed: false, ref: null });
      const ref = { thread: thread(), messageId: 'm9' };
      await store.recordPost(key, ref);
      // A recorded post never expires into a new claim.
      time += 3_600_000;
      expect(await store.claimPost(key)).toEqual({ claimed: false, ref });
    });

    it('files sessions by their last write, those with a kept final apart, oldest first', async () => {
      const t0 = time;
      await newSession('s1');
      time += 10;
      await newSession('s2');
      time += 10;
      await newSession('s3');
      time += 10;
      await store.updateSettings('s1', { takes: 3 }); // s1 is touched: the newest now
      expect(await store.idleSessions(t0 + 20, null, 0, 10)).toEqual(['s2', 's3']);
      expect(await store.idleSessions(time, null, 0, 10)).toEqual(['s2', 's3', 's1']);
      expect(await store.idleSessions(time, null, 1, 1)).toEqual(['s3']);
      expect(await store.idleSessions(t0 - 1, null, 0, 10)).toEqual([]);
      // A take that won a vote moves its session to the kept index: only a kept cutoff lists it.
      await store.create({ id: 's4', thread: thread(), owner, first: { prompt: 'a fox', negativePrompt: '', seed: 1, author: owner, change: 'first version' }, settings: { takes: 2 } });
      await store.addJob('s4', { jobId: 'j4', version: 1, kind: 'render', quality: 'draft', takes: 1, requestedBy: owner });
      await store.transitionJob('j4', 'done', { artifacts: [{ index: 0, seed: 1, video: { key: 'v', bytes: 1, contentType: 'video/mp4' }, preview: { key: 'p', bytes: 1, contentType: 'image/png' } }] });
      await store.openRound('s4', { jobId: 'j4', takes: 1, deadline: time + 60_000, quorum: 0 });
      expect(await store.idleSessions(time, null, 0, 10)).toContain('s4');
      await store.closeRound('s4', 1, { take: 0, by: owner });
      expect(await store.idleSessions(time, null, 0, 10)).not.toContain('s4');
      expect(await store.idleSessions(time, time, 0, 10)).toEqual(['s2', 's3', 's1', 's4']);
    });

    it("lists a channel's sessions with a kept final, newest write first, in pages, until retired", async () => {
      const won = async (id: string, t: ThreadRef = thread()) => {
        await store.create({ id, thread: t, owner, first: { prompt: 'a fox', negativePrompt: '', seed: 1, author: owner, change: 'first version' }, settings: { takes: 1 } });
        await store.addJob(id, { jobId: `j-${id}`, version: 1, kind: 'render', quality: 'draft', takes: 1, requestedBy: owner });
        await store.transitionJob(`j-${id}`, 'done', { artifacts: [{ index: 0, seed: 1, video: { key: 'v', bytes: 1, contentType: 'video/mp4' }, preview: { key: 'p', bytes: 1, contentType: 'image/png' } }] });
        await store.openRound(id, { jobId: `j-${id}`, takes: 1, deadline: time + 60_000, quorum: 0 });
        await store.closeRound(id, 1, { take: 0, by: owner });
      };
      const t0 = time;
      await newSession('s0'); // no winner, no final: not listed
      await won('s1');
      time += 10;
      await won('s2');
      await won('s3'); // the same millisecond as s2
      await won('s9', { platform: 'discord', channelId: 'c9', threadId: 'x1' });
      expect(await store.keptByChannel('local:c1', { limit: 10 })).toEqual([
        { sessionId: 's3', at: t0 + 10 },
        { sessionId: 's2', at: t0 + 10 },
        { sessionId: 's1', at: t0 },
      ]);
      expect(await store.keptByChannel('discord:c9', { limit: 10 })).toEqual([{ sessionId: 's9', at: t0 + 10 }]);
      // Page by page, one at a time: the boundary inside one millisecond skips and repeats nothing.
      const seen: string[] = [];
      let page = await store.keptByChannel('local:c1', { limit: 1 });
      while (page.length > 0) {
        seen.push(page[0]!.sessionId);
        page = await store.keptByChannel('local:c1', { limit: 1, before: page[0]! });
      }
      expect(seen).toEqual(['s3', 's2', 's1']);
      // Any write is activity: s1 comes first again.
      time += 10;
      await store.updateSettings('s1', { takes: 2 });
      expect((await store.keptByChannel('local:c1', { limit: 2 })).map((e) => e.sessionId)).toEqual(['s1', 's3']);
      // Retired: gone from its channel.
      expect(await store.retire('s1', { rev: (await store.get('s1'))!.rev, idleBefore: time, keptBefore: time })).toBe(true);
      expect((await store.keptByChannel('local:c1', { limit: 10 })).map((e) => e.sessionId)).toEqual(['s3', 's2']);
      expect(await store.keptByChannel('slack:nowhere', { limit: 10 })).toEqual([]);
    });

    it('retires an idle session in one step, only while untouched, then purges it', async () => {
      const t = thread();
      await store.create({ id: 's1', thread: t, owner, first: { prompt: 'a fox', negativePrompt: '', seed: 1, author: owner, change: 'first version' }, settings: { takes: 1 }, job: { jobId: 'j1', version: 1, kind: 'render', quality: 'draft', takes: 1, requestedBy: owner, origin: 'local:cmd-1' } });
      await store.claimPost({ scope: 'j1', kind: 'progress', index: 0 });
      await store.recordPost({ scope: 'j1', kind: 'progress', index: 0 }, { thread: t, messageId: 'm1' });
      const written = time;
      time += 1_000;
      const s = (await store.get('s1'))!;
      // Written after the cutoff, or since it was read: not retired.
      expect(await store.retire('s1', { rev: s.rev, idleBefore: written - 1, keptBefore: null })).toBe(false);
      expect(await store.retire('s1', { rev: s.rev - 1, idleBefore: written, keptBefore: null })).toBe(false);
      expect((await store.get('s1'))?.rev).toBe(s.rev);
      expect(await store.retire('s1', { rev: s.rev, idleBefore: written, keptBefore: null })).toBe(true);
      // Once: a second sweeper loses.
      expect(await store.retire('s1', { rev: s.rev, idleBefore: written, keptBefore: null })).toBe(false);
      // Out of use: no index finds it, no write reaches it, the thread is free for a new session.
      expect(await store.get('s1')).toBeNull();
      expect(await store.getByThread(t)).toBeNull();
      expect(await store.getByJob('j1')).toBeNull();
      expect(await store.getByOrigin('local:cmd-1')).toBeNull();
      expect(await store.undelivered()).toEqual([]);
      expect(await store.awaitingAdmission(time)).toEqual([]);
      expect(await store.idleSessions(time, time, 0, 10)).toEqual([]);
      expect(await code(store.updateSettings('s1', { takes: 2 }))).toBe('not_found');
      // Its document waits for the purge.
      expect((await store.getRetired('s1'))?.jobs.map((j) => j.jobId)).toEqual(['j1']);
      expect(await store.retiredSessions(time - 1, 10)).toEqual([]);
      expect(await store.retiredSessions(time, 10)).toEqual(['s1']);
      await store.purge('s1');
      expect(await store.getRetired('s1')).toBeNull();
      expect(await store.retiredSessions(time, 10)).toEqual([]);
      expect(await store.getPost({ scope: 'j1', kind: 'progress', index: 0 })).toBeNull();
      await expect(store.purge('s1')).resolves.toBeUndefined();
      await newSession('s2', t);
      expect((await store.getByThread(t))?.id).toBe('s2');
    });

    it('loses nothing when reopened', async () => {
      if (!fixture.reopen) return;
      const t = thread();
      await newSession('s1', t);
      await store.addJob('s1', { jobId: 'j1', version: 1, kind: 'render', quality: 'draft', takes: 2, requestedBy: owner });
      await store.claimPost({ scope: 'j1', kind: 'progress', index: 0 });
      const reopened = await fixture.reopen();
      expect(await reopened.getByThread(t)).toEqual(await store.get('s1'));
      expect((await reopened.getByJob('j1'))?.id).toBe('s1');
      expect(await reopened.claimPost({ scope: 'j1', kind: 'progress', index: 0 })).toEqual({ claimed: false, ref: null });
      await reopened.close();
    });
  });
}
