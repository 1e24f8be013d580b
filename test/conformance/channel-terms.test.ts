import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CHANNEL_TERMS, type ChannelTerms } from '../../src/core/ports/channel-terms.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { MemoryChannelTerms } from '../../src/storage/memory-channel-terms.ts';
import { RedisChannelTerms } from '../../src/storage/redis-channel-terms.ts';

/** The ChannelTerms seam: one suite, run on the memory and the Redis implementation. */

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `test-terms-${randomBytes(4).toString('hex')}:`;
afterAll(async () => {
  await deleteKeysStartingWith(redis, prefix);
  redis.disconnect();
});

const implementations: Array<[string, () => ChannelTerms]> = [
  ['memory', () => new MemoryChannelTerms()],
  ['Redis', () => new RedisChannelTerms(redis, `${prefix}${randomBytes(3).toString('hex')}:`)],
];

describe.each(implementations)('ChannelTerms conformance (%s)', (_name, make) => {
  it('adds, lists (sorted) and removes terms per channel, saying whether anything changed', async () => {
    const terms = make();
    expect(await terms.list('discord:c1')).toEqual([]);
    expect(await terms.add('discord:c1', 'dragon')).toBe(true);
    expect(await terms.add('discord:c1', 'castle')).toBe(true);
    expect(await terms.add('discord:c1', 'dragon')).toBe(false);
    expect(await terms.list('discord:c1')).toEqual(['castle', 'dragon']);
    expect(await terms.list('discord:c2')).toEqual([]);
    expect(await terms.remove('discord:c1', 'dragon')).toBe(true);
    expect(await terms.remove('discord:c1', 'dragon')).toBe(false);
    expect(await terms.list('discord:c1')).toEqual(['castle']);
  });

  it(`holds at most ${MAX_CHANNEL_TERMS} terms per channel, refusing the next with one sentence`, async () => {
    const terms = make();
    for (let i = 0; i < MAX_CHANNEL_TERMS; i++) await terms.add('slack:C1', `term${i}`);
    await expect(terms.add('slack:C1', 'one-more')).rejects.toThrow(`This channel already blocks ${MAX_CHANNEL_TERMS} terms, the most it may; remove one with /policy remove before adding another.`);
    expect(await terms.add('slack:C1', 'term7')).toBe(false);
  });
});
