import { LuaScript, type RedisScripting } from '../redis/lua-script.ts';
import { reachRedis } from '../redis/unreachable.ts';
import { DEFAULT_BUCKET, type RateDecision, type RateLimiter, type TokenBucketConfig } from './rate-limit.ts';

// Refill then take, atomically, so concurrent commands from one person across bot processes
// cannot overspend; KEYS and ARGV at the top of the script.
const TOKEN_BUCKET = LuaScript.fromFile(new URL('./lua/token-bucket-1.lua', import.meta.url));

export class RedisTokenBucket implements RateLimiter {
  constructor(
    private readonly redis: RedisScripting,
    private readonly options: { prefix?: string; config?: TokenBucketConfig; now?: () => number } = {},
  ) {}

  async take(key: string, cost = 1): Promise<RateDecision> {
    const config = this.options.config ?? DEFAULT_BUCKET;
    const perMs = config.refillPerSecond / 1000;
    const ttl = perMs > 0 ? Math.ceil(config.capacity / perMs) + 1000 : 86_400_000;
    const now = (this.options.now ?? Date.now)();
    const reply = (await reachRedis(TOKEN_BUCKET.run(this.redis, [`${this.options.prefix ?? 'dailies:'}rate:${key}`], [config.capacity, perMs, now, cost, ttl]))) as [number, number, string];
    const [allowed, wait, tokens] = reply;
    return {
      allowed: allowed === 1,
      retryAfterMs: wait < 0 ? Number.POSITIVE_INFINITY : wait,
      remaining: Math.floor(Number(tokens)),
    };
  }
}
