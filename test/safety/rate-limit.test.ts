import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryRateLimiter, rateLimitMessage, type RateLimiter, type TokenBucketConfig } from '../../src/safety/rate-limit.ts';
import { RedisTokenBucket } from '../../src/safety/redis-token-bucket.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(REDIS_URL);
const prefix = `test:${randomBytes(6).toString('hex')}:`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

type Factory = (config: TokenBucketConfig, now: () => number) => RateLimiter;

const limiters: Array<[string, Factory]> = [
  ['memory', (config, now) => new MemoryRateLimiter(config, now)],
  ['redis', (config, now) => new RedisTokenBucket(redis, { prefix: `${prefix}${randomBytes(3).toString('hex')}:`, config, now })],
];

describe.each(limiters)('token bucket (%s)', (_name, make) => {
  it('allows a burst of `capacity`, then refuses with the wait until the next token', async () => {
    let t = 1_000_000;
    const limiter = make({ capacity: 3, refillPerSecond: 0.5 }, () => t);
    for (let i = 0; i < 3; i++) expect((await limiter.take('u1')).allowed).toBe(true);
    const refused = await limiter.take('u1');
    expect(refused).toEqual({ allowed: false, retryAfterMs: 2000, remaining: 0 });
    t += 1000;
    expect((await limiter.take('u1')).retryAfterMs).toBe(1000);
    t += 1000;
    expect((await limiter.take('u1')).allowed).toBe(true);
    expect((await limiter.take('u2')).allowed).toBe(true);
  });

  it('refills to capacity and no further', async () => {
    let t = 0;
    const limiter = make({ capacity: 2, refillPerSecond: 1 }, () => t);
    await limiter.take('u');
    await limiter.take('u');
    t += 60_000;
    expect(await limiter.take('u')).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.take('u')).toMatchObject({ allowed: true, remaining: 0 });
    expect((await limiter.take('u')).allowed).toBe(false);
  });

  it('never overspends under concurrent takes', async () => {
    const limiter = make({ capacity: 5, refillPerSecond: 0.001 }, () => 42);
    const results = await Promise.all(Array.from({ length: 30 }, () => limiter.take('same')));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
  });
});

describe('rate limit message', () => {
  it('says when to try again, in units a person can act on', () => {
    expect(rateLimitMessage(1)).toBe('You are starting renders faster than this server allows; try again in 1 s.');
    expect(rateLimitMessage(61_000)).toBe('You are starting renders faster than this server allows; try again in 61 s.');
    expect(rateLimitMessage(600_000)).toBe('You are starting renders faster than this server allows; try again in 10 min.');
    expect(rateLimitMessage(Number.POSITIVE_INFINITY)).toMatch(/ask a moderator/);
  });
});
