import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { SettingsStore } from '../../src/core/ports/settings-store.ts';
import { checkSaved } from '../../src/core/render-defaults.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { MemorySettingsStore } from '../../src/storage/memory-settings-store.ts';
import { RedisSettingsStore } from '../../src/storage/redis-settings-store.ts';

/** The SettingsStore seam: one suite, run on the memory and the Redis implementation. */

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `test-settings-${randomBytes(4).toString('hex')}:`;
afterAll(async () => {
  await deleteKeysStartingWith(redis, prefix);
  redis.disconnect();
});

const implementations: Array<[string, () => SettingsStore]> = [
  ['memory', () => new MemorySettingsStore()],
  ['Redis', () => new RedisSettingsStore(redis, `${prefix}${randomBytes(3).toString('hex')}:`)],
];

describe.each(implementations)('SettingsStore conformance (%s)', (_name, make) => {
  it('keeps a person and a channel apart and reads both at once', async () => {
    const store = make();
    expect(await store.read('person:local:ana', 'channel:local:general')).toEqual({ person: {}, channel: {} });
    expect(await store.change('person:local:ana', { takes: 2, style: 'pixel art' }, [])).toEqual({ takes: 2, style: 'pixel art' });
    expect(await store.change('channel:local:general', { steps: 20 }, [])).toEqual({ steps: 20 });
    expect(await store.read('person:local:ana', 'channel:local:general')).toEqual({ person: { takes: 2, style: 'pixel art' }, channel: { steps: 20 } });
    expect(await store.read('person:local:ben', 'channel:local:other')).toEqual({ person: {}, channel: {} });
  });

  it('writes over single defaults and clears named ones in one change', async () => {
    const store = make();
    await store.change('person:discord:1', { takes: 2, duration: 4, negative: 'blurry' }, []);
    expect(await store.change('person:discord:1', { takes: 3 }, ['negative'])).toEqual({ takes: 3, duration: 4 });
    expect(await store.change('person:discord:1', {}, ['takes', 'duration'])).toEqual({});
    expect((await store.read('person:discord:1', 'channel:discord:2')).person).toEqual({});
  });

  it('keeps values as typed: text with quotes, colons and emoji round-trips', async () => {
    const store = make();
    const style = 'film grain: "warm" 🎞️, 35mm';
    await store.change('person:slack:U1', { style, model: 'Big-T2V' }, []);
    expect(checkSaved((await store.read('person:slack:U1', 'channel:slack:C1')).person)).toEqual({ style, model: 'Big-T2V' });
  });
});

describe('saved defaults read back', () => {
  it('drops each value this release would not accept and keeps the rest', () => {
    expect(checkSaved({ takes: 9, steps: 20, style: '', model: 'x'.repeat(101), negative: 'blurry', extra: 1 })).toEqual({ steps: 20, negative: 'blurry' });
    expect(checkSaved('not an object')).toEqual({});
    expect(checkSaved(null)).toEqual({});
  });

  it('ignores a Redis field that is not JSON', async () => {
    const p = `${prefix}raw:`;
    await redis.hset(`${p}settings:person:local:x`, { takes: '2', style: '{broken' });
    expect((await new RedisSettingsStore(redis, p).read('person:local:x', 'channel:local:y')).person).toEqual({ takes: 2 });
  });
});
