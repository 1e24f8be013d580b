/**
 * Per-person rate limit: a token bucket per key. `capacity` renders may be started in a burst,
 * then one more every `1 / refillPerSecond` seconds. The Redis version (redis-token-bucket.ts)
 * shares buckets between bot processes; this one is for tests and single-process runs.
 */

export interface RateDecision {
  allowed: boolean;
  /** When refused, how long until `cost` tokens are back. */
  retryAfterMs: number;
  remaining: number;
}

export interface RateLimiter {
  take(key: string, cost?: number): Promise<RateDecision>;
}

export interface TokenBucketConfig {
  capacity: number;
  refillPerSecond: number;
}

export const DEFAULT_BUCKET: TokenBucketConfig = { capacity: 5, refillPerSecond: 1 / 30 };

/** The bucket arithmetic shared in spirit with the Lua script (same rounding, same clamping). */
export function refill(tokens: number, lastMs: number, nowMs: number, config: TokenBucketConfig): { tokens: number; at: number } {
  if (nowMs <= lastMs) return { tokens, at: lastMs };
  return { tokens: Math.min(config.capacity, tokens + ((nowMs - lastMs) * config.refillPerSecond) / 1000), at: nowMs };
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly config: TokenBucketConfig = DEFAULT_BUCKET,
    private readonly now: () => number = Date.now,
  ) {}

  async take(key: string, cost = 1): Promise<RateDecision> {
    const now = this.now();
    const stored = this.buckets.get(key) ?? { tokens: this.config.capacity, at: now };
    const bucket = refill(stored.tokens, stored.at, now, this.config);
    if (bucket.tokens >= cost) {
      this.buckets.set(key, { tokens: bucket.tokens - cost, at: bucket.at });
      return { allowed: true, retryAfterMs: 0, remaining: Math.floor(bucket.tokens - cost) };
    }
    this.buckets.set(key, bucket);
    const perMs = this.config.refillPerSecond / 1000;
    return { allowed: false, retryAfterMs: perMs > 0 ? Math.ceil((cost - bucket.tokens) / perMs) : Number.POSITIVE_INFINITY, remaining: Math.floor(bucket.tokens) };
  }
}

/** One sentence for a refused take, with the wait rounded up to what a person can act on. */
export function rateLimitMessage(retryAfterMs: number): string {
  if (!Number.isFinite(retryAfterMs)) return 'You have used all your renders; ask a moderator to raise the limit.';
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const wait = seconds < 90 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
  return `You are starting renders faster than this server allows; try again in ${wait}.`;
}
