import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalChatStore, type StoredMessage } from '../../bots/local/local-store.ts';
import type { ArtifactStore } from '../../src/core/ports/artifact-store.ts';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { createRetention, type RetentionReport } from '../../src/core/retention.ts';
import type { Clock } from '../../src/core/runtime.ts';
import type { Person } from '../../src/core/session.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { RedisSessionStore } from '../../src/storage/redis-session-store.ts';
import { startS3Server, type TestS3 } from './s3-server.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DAY = 24 * 3_600_000;
const owner: Person = { id: 'u1', name: 'Ann' };

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.close();
});

const stores: Array<[string, () => Promise<{ artifacts: ArtifactStore; cleanup(): Promise<void> }>]> = [
  [
    'a folder',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dailies-retention-'));
      return { artifacts: new FsArtifactStore({ root: dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'an S3 bucket',
    async () => {
      const { store, cleanup } = await s3.store();
      return { artifacts: store, cleanup };
    },
  ],
];

describe.each(stores)('Retention deletes what is past it and nothing else (artifacts in %s)', (_name, makeArtifacts) => {
  let time: number;
  const clock: Clock = { now: () => time, setTimeout: () => null, clearTimeout: () => {} };
  let prefix: string;
  let redis: Redis;
  let sessions: RedisSessionStore;
  let chat: LocalChatStore;
  let artifacts: ArtifactStore;
  let cleanupArtifacts: () => Promise<void>;

  beforeEach(async () => {
    time = Date.UTC(2026, 0, 1);
    prefix = `test:${randomBytes(6).toString('hex')}:`;
    redis = new Redis(REDIS_URL);
    sessions = new RedisSessionStore({ redis, prefix: `${prefix}s:`, now: () => time });
    chat = new LocalChatStore({ redis, prefix: `${prefix}local:`, eventLogSize: 100, logger: console });
    ({ artifacts, cleanup: cleanupArtifacts } = await makeArtifacts());
  });
  afterEach(async () => {
    await deleteKeysStartingWith(redis, prefix);
    await redis.quit();
    await cleanupArtifacts();
  });

  function retention(store = sessions) {
    return createRetention({
      store,
      artifacts,
      forgetThread: (t: ThreadRef) => chat.forgetThread(t.channelId, t.threadId),
      idleMs: 30 * DAY,
      keepMs: 365 * DAY,
      clock,
      pageSize: 2,
    });
  }

  /** The files one job leaves: a take, its preview, a fitted copy, a chain segment; and an input image. */
  function filesOf(id: string): string[] {
    return [`renders/j${id}/take-0.mp4`, `renders/j${id}/take-0-preview.webp`, `renders/j${id}/take-0.fit8000000.mp4`, `renders/j${id}/chain/seg-0-take-0.rgb`, `inputs/${id}/start.png`];
  }

  /** A session with one finished render (or one still `rendering`), its files and its web chat thread of two messages. */
  async function session(id: string, state: 'done' | 'rendering' = 'done'): Promise<ThreadRef> {
    const thread: ThreadRef = { platform: 'local', channelId: 'c1', threadId: `t${id}` };
    for (const key of filesOf(id)) await artifacts.putBuffer(key, randomBytes(32), 'application/octet-stream');
    const image = { artifact: { key: `inputs/${id}/start.png`, bytes: 32, contentType: 'image/png' }, strength: 0.5 };
    await sessions.create({ id, thread, owner, first: { prompt: 'a red ball', negativePrompt: '', seed: 1, author: owner, change: 'first version' }, settings: { takes: 1, image }, job: { jobId: `j${id}`, version: 1, kind: 'render', quality: 'draft', takes: 1, requestedBy: owner, origin: `local:cmd-${id}` } });
    if (state === 'done') {
      const take = { index: 0, seed: 1, video: { key: `renders/j${id}/take-0.mp4`, bytes: 32, contentType: 'video/mp4' }, preview: { key: `renders/j${id}/take-0-preview.webp`, bytes: 32, contentType: 'image/webp' } };
      await sessions.transitionJob(`j${id}`, 'done', { artifacts: [take] });
    } else await sessions.transitionJob(`j${id}`, 'rendering');
    await sessions.claimPost({ scope: `j${id}`, kind: 'progress', index: 0 });
    await sessions.recordPost({ scope: `j${id}`, kind: 'progress', index: 0 }, { thread, messageId: `m${id}r` });
    await chat.createThread({ id: thread.threadId, channelId: 'c1', rootMessageId: `m${id}`, title: 'a red ball', createdAt: time, createdBy: owner });
    const message = (mid: string, root: boolean): StoredMessage => ({ id: mid, channelId: 'c1', threadId: thread.threadId, root, author: { ...owner, bot: !root }, text: 'a red ball', attachments: [], buttons: [], createdAt: time, editedAt: null, rev: 1 });
    await chat.writeMessage('post', message(`m${id}`, true));
    await chat.writeMessage('post', message(`m${id}r`, false));
    return thread;
  }

  async function present(id: string): Promise<{ session: boolean; files: number; messages: number; channelRoot: boolean }> {
    const files = (await Promise.all(filesOf(id).map((k) => artifacts.stat(k)))).filter(Boolean).length;
    const thread = await chat.snapshot(`t:t${id}`, 100);
    const channel = await chat.snapshot('c:c1', 100);
    return { session: (await sessions.getByThread({ platform: 'local', channelId: 'c1', threadId: `t${id}` })) !== null, files, messages: thread.messages.length, channelRoot: channel.messages.some((m) => m.id === `m${id}`) };
  }
  const whole = { session: true, files: 5, messages: 2, channelRoot: true };
  const gone = { session: false, files: 0, messages: 0, channelRoot: false };

  it('deletes an old idle session whole, keeps a recent one, one still rendering and a kept final until the longer setting', async () => {
    await session('old');
    await session('recent');
    await session('busy', 'rendering');
    await session('won');
    await sessions.openRound('won', { jobId: 'jwon', takes: 1, deadline: time + 60_000, quorum: 0 });
    await sessions.closeRound('won', 1, { take: 0, by: owner });
    // Twenty days on someone votes on `recent`'s thread again (any write is activity).
    time += 20 * DAY;
    await sessions.updateSettings('recent', { takes: 2 });
    time += 11 * DAY;

    // A dry run counts what a sweep would delete and deletes nothing.
    expect(await retention().sweep({ dryRun: true })).toEqual({ sessions: 1, files: 0, messages: 0, active: 1 });
    expect(await present('old')).toEqual(whole);

    const first = await retention().sweep();
    expect(first).toEqual({ sessions: 1, files: 5, messages: 2, active: 1 });
    expect(await present('old')).toEqual(gone);
    expect(await sessions.getPost({ scope: 'jold', kind: 'progress', index: 0 })).toBeNull();
    expect(await sessions.getByOrigin('local:cmd-old')).toBeNull();
    expect(await chat.getThread('told')).toBeNull();
    expect(await present('recent')).toEqual(whole);
    expect(await present('busy')).toEqual(whole);
    expect(await present('won')).toEqual(whole);
    expect(await sessions.getPost({ scope: 'jwon', kind: 'progress', index: 0 })).not.toBeNull();

    // Nothing more is due until a cutoff passes.
    expect(await retention().sweep()).toEqual({ sessions: 0, files: 0, messages: 0, active: 1 });

    // A year on: the recent session went at its own 30 days, the kept final at 365.
    time = Date.UTC(2026, 0, 1) + 364 * DAY;
    expect((await retention().sweep()).sessions).toBe(1);
    expect(await present('recent')).toEqual(gone);
    expect(await present('won')).toEqual(whole);
    time = Date.UTC(2026, 0, 1) + 366 * DAY;
    expect((await retention().sweep()).sessions).toBe(1);
    expect(await present('won')).toEqual(gone);
    // The render that never ended is never deleted under it.
    expect(await present('busy')).toEqual(whole);
  });

  it('two sweepers at once delete each session once, and a session touched meanwhile stays', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    for (const id of ids) await session(id);
    time += 31 * DAY;
    const otherClient = new Redis(REDIS_URL);
    try {
      const other = new RedisSessionStore({ redis: otherClient, prefix: `${prefix}s:`, now: () => time });
      const touched = sessions.updateSettings('g', { takes: 2 });
      const reports: RetentionReport[] = await Promise.all([retention().sweep(), retention(other).sweep(), touched.then(() => null).catch(() => null)]).then((r) => r.filter((x): x is RetentionReport => x !== null));
      const sum = (k: keyof RetentionReport) => reports.reduce((n, r) => n + r[k], 0);
      const survived = (await present('g')).session;
      // `g` either was touched before a sweeper got to it (and stays whole) or was retired first (the write then found no session).
      const deleted = survived ? 6 : 7;
      expect(sum('sessions')).toBe(deleted);
      expect(sum('files')).toBe(deleted * 5);
      expect(sum('messages')).toBe(deleted * 2);
      for (const id of ids.slice(0, 6)) expect(await present(id)).toEqual(gone);
      if (survived) expect(await present('g')).toEqual(whole);
      // Nothing is left half done.
      expect(await sessions.retiredSessions(time + DAY, 10)).toEqual([]);
    } finally {
      await otherClient.quit();
    }
  });

  it('finishes a session a sweeper retired and then died on, once the resume delay has passed', async () => {
    await session('half');
    time += 31 * DAY;
    const s = (await sessions.get('half'))!;
    expect(await sessions.retire('half', { rev: s.rev, idleBefore: time - 30 * DAY, keptBefore: null })).toBe(true);
    // The sweeper died here: the files and messages are still there, the session is out of use.
    expect(await present('half')).toEqual({ ...whole, session: false });
    expect((await retention().sweep()).sessions).toBe(0);
    time += 11 * 60_000;
    expect(await retention().sweep()).toEqual({ sessions: 1, files: 5, messages: 2, active: 0 });
    expect(await present('half')).toEqual(gone);
  });
});
