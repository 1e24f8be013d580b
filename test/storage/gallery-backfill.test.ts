import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import type { Person } from '../../src/core/session.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { RedisSessionStore } from '../../src/storage/redis-session-store.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const owner: Person = { id: 'u1', name: 'Ann' };

describe("the gallery's channel index for sessions written before it existed (real Redis)", () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  afterEach(async () => {
    await deleteKeysStartingWith(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('files every session with a kept final in its channel once, beside live writes, and skips the rest', async () => {
    let time = 1_000;
    const store = new RedisSessionStore({ redis, prefix, now: () => time });
    const create = (id: string, thread: ThreadRef) =>
      store.create({ id, thread, owner, first: { prompt: 'a fox', negativePrompt: '', seed: 1, author: owner, change: 'first version' }, settings: { takes: 1 } });
    const won = async (id: string, thread: ThreadRef) => {
      await create(id, thread);
      await store.addJob(id, { jobId: `j-${id}`, version: 1, kind: 'render', quality: 'draft', takes: 1, requestedBy: owner });
      await store.transitionJob(`j-${id}`, 'done', { artifacts: [{ index: 0, seed: 1, video: { key: 'v', bytes: 1, contentType: 'video/mp4' }, preview: { key: 'p', bytes: 1, contentType: 'image/png' } }] });
      await store.openRound(id, { jobId: `j-${id}`, takes: 1, deadline: time + 60_000, quorum: 0 });
      await store.closeRound(id, 1, { take: 0, by: owner });
    };
    await won('s1', { platform: 'local', channelId: 'c1', threadId: 't1' });
    time += 10;
    await won('s2', { platform: 'discord', channelId: 'c9', threadId: 't2' });
    await create('s3', { platform: 'local', channelId: 'c1', threadId: 't3' }); // nothing kept
    // As a store from before the channel index left them: only in the kept activity index.
    const channelKeys = await redis.keys(`${prefix}channel-kept:*`);
    expect(channelKeys).toHaveLength(2);
    await redis.del(...channelKeys);
    expect(await store.keptByChannel('local:c1', { limit: 10 })).toEqual([]);

    expect(await store.fileKeptByChannel(1)).toBe(2);
    expect(await store.keptByChannel('local:c1', { limit: 10 })).toEqual([{ sessionId: 's1', at: 1_000 }]);
    expect(await store.keptByChannel('discord:c9', { limit: 10 })).toEqual([{ sessionId: 's2', at: 1_010 }]);

    // Done once: a later start reads the marker and files nothing, even what a bug left out.
    await redis.del(`${prefix}channel-kept:discord:c9`);
    expect(await store.fileKeptByChannel()).toBe(0);
    expect(await store.keptByChannel('discord:c9', { limit: 10 })).toEqual([]);
  });

  it("never files a session that left the kept index, nor moves one whose channel already has it", async () => {
    const store = new RedisSessionStore({ redis, prefix, now: () => 5_000 });
    const thread = { platform: 'local' as const, channelId: 'c1', threadId: 't1' };
    await store.create({ id: 's1', thread, owner, first: { prompt: 'a fox', negativePrompt: '', seed: 1, author: owner, change: 'first version' }, settings: { takes: 1 } });
    await store.create({ id: 's2', thread: { ...thread, threadId: 't2' }, owner, first: { prompt: 'a cat', negativePrompt: '', seed: 1, author: owner, change: 'first version' }, settings: { takes: 1 } });
    // s1: in the kept index, its channel already has it with a newer score (a write since).
    await redis.zadd(`${prefix}activity:kept`, 3_000, 's1');
    await redis.zadd(`${prefix}channel-kept:local:c1`, 4_000, 's1');
    expect(await store.fileKeptByChannel()).toBe(0);
    expect(await redis.zscore(`${prefix}channel-kept:local:c1`, 's1')).toBe('4000');
    // s2 was never kept: not filed, and the marker now says the pass is done.
    expect(await redis.zscore(`${prefix}channel-kept:local:c1`, 's2')).toBeNull();
    expect(await redis.exists(`${prefix}migrated:channel-kept`)).toBe(1);
  });
});
