import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryDailyQuota, type DailyQuota, type QuotaLimits } from '../../src/safety/daily-quota.ts';
import { RedisDailyQuota } from '../../src/safety/redis-daily-quota.ts';
import { renderQuota } from '../../src/safety/render-quota.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';

/** Daily budgets: the same rules in memory and in Redis, and the sentences people read. */

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `test-quota-${randomBytes(4).toString('hex')}:`;
afterAll(async () => {
  await deleteKeysStartingWith(redis, prefix);
  redis.disconnect();
});

const NOON = Date.parse('2026-12-04T12:00:00Z');
const ana = { person: 'local:ana', channel: 'local:general' };
const ben = { person: 'local:ben', channel: 'local:general' };

const stores: Array<[string, (limits: QuotaLimits) => DailyQuota]> = [
  ['memory', (limits) => new MemoryDailyQuota(limits)],
  ['Redis', (limits) => new RedisDailyQuota(redis, limits, `${prefix}${randomBytes(3).toString('hex')}:`)],
];

describe.each(stores)('daily budgets (%s)', (_name, make) => {
  it('charges the person and the channel, both or neither, and says which budget refused', async () => {
    const quota = make({ person: 1000, channel: 1500 });
    expect(await quota.spend(ana, 600, NOON)).toMatchObject({ allowed: true, person: { used: 600, limit: 1000 }, channel: { used: 600, limit: 1500 } });
    expect(await quota.spend(ana, 500, NOON)).toMatchObject({ allowed: false, by: 'person', person: { used: 600 } });
    expect(await quota.spend(ben, 800, NOON)).toMatchObject({ allowed: true, person: { used: 800 }, channel: { used: 1400 } });
    expect(await quota.spend(ben, 200, NOON)).toMatchObject({ allowed: false, by: 'channel', person: { used: 800 }, channel: { used: 1400 } });
    // Refusals charged nothing.
    expect(await quota.usage(ana, NOON)).toEqual({ person: { used: 600, limit: 1000 }, channel: { used: 1400, limit: 1500 }, resetsAt: Date.parse('2026-12-05T00:00:00Z') });
  });

  it('starts again at midnight UTC, and has no budget where none is set', async () => {
    const quota = make({ person: 100, channel: null });
    expect((await quota.spend(ana, 100, NOON)).allowed).toBe(true);
    expect((await quota.spend(ana, 1, NOON)).allowed).toBe(false);
    expect((await quota.spend(ana, 100, Date.parse('2026-12-05T00:00:01Z'))).allowed).toBe(true);
    expect((await quota.spend(ben, 100, NOON)).channel).toEqual({ used: 200, limit: null });
  });

  it('never overspends when many renders are asked for at once', async () => {
    const quota = make({ person: null, channel: 1000 });
    const people = Array.from({ length: 30 }, (_, i) => ({ person: `local:p${i}`, channel: 'local:busy' }));
    const decisions = await Promise.all(people.map((keys) => quota.spend(keys, 100, NOON)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect((await quota.usage(people[0]!, NOON)).channel.used).toBe(1000);
  });
});

describe('render budgets in work units', () => {
  const scale = async () => ({ steps: 10, frames: 16 });
  const draft = (takes: number) => ({ prompt: 'x', negativePrompt: '', seed: 1, takes, quality: 'draft' as const });

  it('charge takes x steps x frames and refuse with one sentence saying what is left and when it resets', async () => {
    const quota = renderQuota(new MemoryDailyQuota({ person: 700, channel: null }), scale);
    expect(await quota.spend(ana, [draft(2)], NOON)).toEqual({ allowed: true });
    expect(await quota.spend(ana, [draft(2)], NOON)).toEqual({ allowed: true });
    expect(await quota.spend(ana, [draft(1)], NOON)).toEqual({
      allowed: false,
      message: 'This render needs 160 units of work but your daily budget has 60 of 700 left; it resets at 00:00 UTC (in 12 h 0 min), or ask for fewer takes, steps or seconds.',
    });
    expect(await quota.describe(ana, 'This channel', NOON)).toBe(
      'You: 640 of 700 units of work used today, 60 left.\nThis channel: 640 units of work today, no daily budget.\nBudgets reset at 00:00 UTC, in 12 h 0 min. A 2-take draft costs 320 units; a final or a longer video more.',
    );
  });
});
