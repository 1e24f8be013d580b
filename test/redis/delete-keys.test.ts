import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
afterAll(() => redis.disconnect());

it('deletes exactly the keys that start with the prefix, taking glob characters literally', async () => {
  const base = `test:delete-keys:${randomBytes(4).toString('hex')}`;
  const doomed = Array.from({ length: 1500 }, (_, i) => `${base}:a[1]*:${i}`);
  const kept = [`${base}:a1x:0`, `${base}:b:0`, `${base}:a[1]`];
  await redis.mset(...[...doomed, ...kept].flatMap((k) => [k, '1']));
  expect(await deleteKeysStartingWith(redis, `${base}:a[1]*:`)).toBe(1500);
  expect(await redis.exists(...doomed.slice(0, 10))).toBe(0);
  expect(await redis.exists(...kept)).toBe(3);
  expect(await deleteKeysStartingWith(redis, `${base}:`)).toBe(3);
});
