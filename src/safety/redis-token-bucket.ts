import { LuaScript, type RedisScripting } from '../redis/lua-script.ts';
import { reachRedis } from '../redis/unreachable.ts';
import { DEFAULT_BUCKET, type RateDecision, type RateLimiter, type TokenBucketConfig } from './rate-limit.ts';

/**
 * token-bucket: refill then take, atomically, so concurrent commands from one person across bot
 * processes cannot overspend.
 * KEYS[1]  bucket hash {tokens, ts}
 * ARGV[1]  capacity
 * ARGV[2]  refill per millisecond
 * ARGV[3]  now (ms; the caller's clock, so tests can inject time)
 * ARGV[4]  cost
 * ARGV[5]  ttl ms (a full bucket needs no storage)
 * Returns {allowed 0|1, retry-after ms, remaining tokens as a string}.
 */
const TOKEN_BUCKET = new LuaScript(`
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
if now > ts then
  tokens = math.min(cap, tokens + (now - ts) * rate)
  ts = now
end
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
elseif rate > 0 then
  wait = math.ceil((cost - tokens) / rate)
else
  wait = -1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {allowed, wait, tostring(tokens)}
`);

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
