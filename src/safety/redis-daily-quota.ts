import { LuaScript, type RedisScripting } from '../redis/lua-script.ts';
import { reachRedis } from '../redis/unreachable.ts';
import { nextUtcMidnight, utcDay, type DailyQuota, type QuotaDecision, type QuotaKeys, type QuotaLimits, type QuotaUse } from './daily-quota.ts';

// Check both budgets, then charge both, in one step; KEYS and ARGV at the top of the script.
const DAILY_QUOTA = LuaScript.fromFile(new URL('./lua/daily-quota-2.lua', import.meta.url));

/** Counters outlive their day by an hour, so a clock a little behind still finds them. */
const GRACE_MS = 3_600_000;

export class RedisDailyQuota implements DailyQuota {
  constructor(
    private readonly redis: RedisScripting & { mget(...keys: string[]): Promise<Array<string | null>> },
    readonly limits: QuotaLimits,
    private readonly prefix = 'dailies:',
  ) {}

  private keys(keys: QuotaKeys, now: number): [string, string] {
    const day = utcDay(now);
    return [`${this.prefix}quota:person:${keys.person}:${day}`, `${this.prefix}quota:channel:${keys.channel}:${day}`];
  }

  async spend(keys: QuotaKeys, units: number, now: number): Promise<QuotaDecision> {
    const ttl = nextUtcMidnight(now) - now + GRACE_MS;
    const [allowed, by, person, channel] = (await reachRedis(
      DAILY_QUOTA.run(this.redis, this.keys(keys, now), [Math.ceil(units), this.limits.person ?? -1, this.limits.channel ?? -1, ttl]),
    )) as [number, number, number, number];
    const use: QuotaUse = { person: { used: person, limit: this.limits.person }, channel: { used: channel, limit: this.limits.channel }, resetsAt: nextUtcMidnight(now) };
    return allowed === 1 ? { ...use, allowed: true } : { ...use, allowed: false, by: by === 1 ? 'person' : 'channel' };
  }

  async usage(keys: QuotaKeys, now: number): Promise<QuotaUse> {
    const [person, channel] = await reachRedis(this.redis.mget(...this.keys(keys, now)));
    return { person: { used: Number(person ?? 0), limit: this.limits.person }, channel: { used: Number(channel ?? 0), limit: this.limits.channel }, resetsAt: nextUtcMidnight(now) };
  }
}
