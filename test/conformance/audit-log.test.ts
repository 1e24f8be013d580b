import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { MemoryAuditLog } from '../../src/storage/memory-audit-log.ts';
import { RedisAuditLog, auditStreamKey } from '../../src/storage/redis-audit-log.ts';
import { runAuditLogConformance } from './audit-log.conformance.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

runAuditLogConformance('memory', async (now, retentionMs) => ({ log: new MemoryAuditLog({ now, retentionMs }), cleanup: async () => {} }));

runAuditLogConformance('redis', async (now, retentionMs) => {
  const prefix = `test:${randomBytes(6).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  return {
    log: new RedisAuditLog({ redis, prefix, retentionMs, now }),
    cleanup: async () => {
      await deleteKeysStartingWith(redis, prefix);
      await redis.quit();
    },
  };
});

describe('RedisAuditLog on its stream', () => {
  it('keys the stream by entry time, expires it a window after the last add, and skips unreadable entries', async () => {
    const prefix = `test:${randomBytes(6).toString('hex')}`;
    const redis = new Redis(REDIS_URL);
    try {
      const at = Date.UTC(2026, 11, 1, 10);
      const log = new RedisAuditLog({ redis, prefix, retentionMs: 3_600_000, now: () => at });
      const good = { at, kind: 'vote' as const, platform: 'slack' as const, channelId: 'C1', actor: { id: 'U1', name: 'Ann' }, what: 'take 1 of v1' };
      await log.record(good);
      const key = auditStreamKey(prefix);
      expect((await redis.xrange(key, '-', '+')).map(([id]) => id)).toEqual([`${at}-0`]);
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(3_500_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
      // Written by hand, by another version, or damaged: none of these stops the export.
      await redis.xadd(key, `${at + 1}-0`, 'e', '{not json');
      await redis.xadd(key, `${at + 2}-0`, 'e', JSON.stringify({ ...good, kind: 'nonsense' }));
      await redis.xadd(key, `${at + 3}-0`, 'other', 'field');
      await log.record({ ...good, at: at + 4, what: 'take 2 of v1' });
      expect((await log.list({ since: 0 })).map((e) => e.what)).toEqual(['take 1 of v1', 'take 2 of v1']);
      // Behind the last id: the last id's ms, next sequence, so the id stays near `at`.
      await log.record({ ...good, at: at + 2, what: 'late' });
      expect((await redis.xrange(key, `${at + 4}`, '+')).map(([id]) => id)).toEqual([`${at + 4}-0`, `${at + 4}-1`]);
    } finally {
      await deleteKeysStartingWith(redis, prefix);
      await redis.quit();
    }
  });

  it('reads past one page of the stream, also with a limit', async () => {
    const prefix = `test:${randomBytes(6).toString('hex')}`;
    const redis = new Redis(REDIS_URL);
    try {
      const at = Date.UTC(2026, 11, 1, 10);
      const log = new RedisAuditLog({ redis, prefix, now: () => at });
      // Many in one ms (sequence numbers) and many ms: pages end inside a ms and between them.
      await Promise.all(Array.from({ length: 1200 }, (_, i) => log.record({ at: at - 1000 + Math.floor(i / 3), kind: 'vote', platform: 'local', channelId: 'c', actor: null, what: `e${i}` })));
      const all = await log.list({ since: 0 });
      expect(all).toHaveLength(1200);
      expect(new Set(all.map((e) => e.what)).size).toBe(1200);
      expect((await log.list({ since: 0, limit: 700 })).map((e) => e.what)).toEqual(all.slice(0, 700).map((e) => e.what));
    } finally {
      await deleteKeysStartingWith(redis, prefix);
      await redis.quit();
    }
  });

  it('deletes what fell out of the window from the stream itself, not only from what it lists', async () => {
    const prefix = `test:${randomBytes(6).toString('hex')}`;
    const redis = new Redis(REDIS_URL);
    try {
      let now = Date.UTC(2026, 11, 1, 10);
      const log = new RedisAuditLog({ redis, prefix, retentionMs: 3_600_000, now: () => now });
      const entry = (at: number, what: string) => ({ at, kind: 'vote' as const, platform: 'local' as const, channelId: 'c', actor: null, what });
      for (let i = 0; i < 5; i++) await log.record(entry(now + i, `old ${i}`));
      now += 2 * 3_600_000;
      await log.record(entry(now, 'new'));
      await log.record(entry(now - 3 * 3_600_000, 'arrives already too old'));
      expect(await redis.xlen(auditStreamKey(prefix))).toBe(1);
      expect((await log.list({ since: 0 })).map((e) => e.what)).toEqual(['new']);
    } finally {
      await deleteKeysStartingWith(redis, prefix);
      await redis.quit();
    }
  });
});
