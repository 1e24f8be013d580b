import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { PersonBlock, PersonBlocks } from '../../src/core/ports/person-blocks.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { MemoryPersonBlocks } from '../../src/storage/memory-person-blocks.ts';
import { RedisPersonBlocks } from '../../src/storage/redis-person-blocks.ts';

/** The PersonBlocks seam: one suite, run on the memory and the Redis implementation. */

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `test-blocks-${randomBytes(4).toString('hex')}:`;
afterAll(async () => {
  await deleteKeysStartingWith(redis, prefix);
  redis.disconnect();
});

const implementations: Array<[string, () => PersonBlocks]> = [
  ['memory', () => new MemoryPersonBlocks()],
  ['Redis', () => new RedisPersonBlocks(redis, `${prefix}${randomBytes(3).toString('hex')}:`)],
];

const mod = { id: 'M1', name: 'Mo' };
function block(id: string, name: string, at: number, forMs: number, reason?: string): PersonBlock {
  return { person: { id, name }, until: at + forMs, by: mod, at, ...(reason !== undefined && { reason }) };
}

describe.each(implementations)('PersonBlocks conformance (%s)', (_name, make) => {
  // Real time, so the Redis keys' own expiry agrees with the `now` each call is given.
  const now = () => Date.now();

  it('holds a block per person and scope until it ends, with who, why and until when', async () => {
    const blocks = make();
    const t = now();
    expect(await blocks.get('discord:G1', 'U1', t)).toBeNull();
    await blocks.put('discord:G1', block('U1', 'Ben', t, 3_600_000, 'spamming renders'));
    expect(await blocks.get('discord:G1', 'U1', t + 1)).toEqual({ person: { id: 'U1', name: 'Ben' }, until: t + 3_600_000, reason: 'spamming renders', by: mod, at: t });
    // Another server, another person: not blocked.
    expect(await blocks.get('discord:G2', 'U1', t + 1)).toBeNull();
    expect(await blocks.get('discord:G1', 'U2', t + 1)).toBeNull();
    // Past its end (by the caller's clock) it is gone.
    expect(await blocks.get('discord:G1', 'U1', t + 3_600_000)).toBeNull();
  });

  it('replaces a block with a new one, ends it early with remove, and says whether there was one', async () => {
    const blocks = make();
    const t = now();
    await blocks.put('slack:T1', block('U1', 'Ben', t, 3_600_000, 'first'));
    await blocks.put('slack:T1', block('U1', 'Ben', t, 60_000));
    const got = await blocks.get('slack:T1', 'U1', t + 1);
    expect(got?.until).toBe(t + 60_000);
    expect(got?.reason).toBeUndefined();
    expect(await blocks.remove('slack:T1', 'U1')).toBe(true);
    expect(await blocks.get('slack:T1', 'U1', t + 1)).toBeNull();
    expect(await blocks.remove('slack:T1', 'U1')).toBe(false);
    expect(await blocks.list('slack:T1', t + 1)).toEqual([]);
  });

  it('lists the blocks still running in a scope, the soonest to end first', async () => {
    const blocks = make();
    const t = now();
    await blocks.put('local', block('a', 'Ana', t, 7 * 86_400_000));
    await blocks.put('local', block('b', 'Ben', t, 30 * 60_000));
    await blocks.put('local', block('c', 'Cy', t, 2 * 3_600_000, 'off-topic'));
    await blocks.put('discord:G1', block('d', 'Dee', t, 60_000));
    expect((await blocks.list('local', t + 1)).map((b) => [b.person.name, b.until - t])).toEqual([
      ['Ben', 30 * 60_000],
      ['Cy', 2 * 3_600_000],
      ['Ana', 7 * 86_400_000],
    ]);
    // 40 minutes on, Ben's has ended.
    expect((await blocks.list('local', t + 40 * 60_000)).map((b) => b.person.name)).toEqual(['Cy', 'Ana']);
    await blocks.remove('local', 'c');
    expect((await blocks.list('local', t + 40 * 60_000)).map((b) => b.person.name)).toEqual(['Ana']);
  });
});

describe('RedisPersonBlocks in Redis itself', () => {
  it('lets a block end by itself: its key and its index expire with it, nothing sweeps', async () => {
    const p = `${prefix}expiry:`;
    const blocks = new RedisPersonBlocks(redis, p);
    const t = Date.now();
    await blocks.put('discord:G1', block('U1', 'Ben', t, 300));
    expect(await redis.pttl(`${p}block:discord:G1:U1`)).toBeGreaterThan(0);
    expect(await redis.pttl(`${p}blocks:discord:G1`)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 450));
    // Asked with a clock that has not caught up, the key is still gone: Redis ended the block.
    expect(await blocks.get('discord:G1', 'U1', t)).toBeNull();
    expect(await redis.exists(`${p}block:discord:G1:U1`, `${p}blocks:discord:G1`)).toBe(0);
  });

  it('keeps the index as long as its longest block, whatever order they come in', async () => {
    const p = `${prefix}index:`;
    const blocks = new RedisPersonBlocks(redis, p);
    const t = Date.now();
    await blocks.put('local', block('a', 'Ana', t, 86_400_000));
    await blocks.put('local', block('b', 'Ben', t, 60_000));
    expect(await redis.pexpiretime(`${p}blocks:local`)).toBe(t + 86_400_000);
  });
});
