/**
 * Daily render budgets, in work units (takes x steps x frames, the ETA's unit: src/queue/job-cost.ts):
 * one per person and one per channel, reset at midnight UTC. A render is charged to both when it
 * is asked for, only if both have room, so a burst across bot processes cannot overspend either.
 * The Redis version (redis-daily-quota.ts) shares the counters between bots; this one is for
 * tests and single-process runs.
 */

/** Units per UTC day; null: no budget. */
export interface QuotaLimits {
  person: number | null;
  channel: number | null;
}

export interface QuotaKeys {
  /** `platform:userId` */
  person: string;
  /** `platform:channelId` */
  channel: string;
}

export interface QuotaUse {
  person: { used: number; limit: number | null };
  channel: { used: number; limit: number | null };
  /** When both reset (the next midnight UTC), ms since the epoch. */
  resetsAt: number;
}

export type QuotaDecision = QuotaUse & ({ allowed: true } | { allowed: false; by: 'person' | 'channel' });

export interface DailyQuota {
  readonly limits: QuotaLimits;
  /** Charges `units` to both budgets if both have room; otherwise charges nothing. */
  spend(keys: QuotaKeys, units: number, now: number): Promise<QuotaDecision>;
  usage(keys: QuotaKeys, now: number): Promise<QuotaUse>;
}

const DAY_MS = 86_400_000;

/** The UTC day `now` falls in, as the counters' key part: "2026-12-04". */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function nextUtcMidnight(now: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
}

/** Whether `used + units` fits every budget; the first one that does not, else null. */
export function overBudget(limits: QuotaLimits, used: { person: number; channel: number }, units: number): 'person' | 'channel' | null {
  if (limits.person !== null && used.person + units > limits.person) return 'person';
  if (limits.channel !== null && used.channel + units > limits.channel) return 'channel';
  return null;
}

export class MemoryDailyQuota implements DailyQuota {
  private readonly used = new Map<string, number>();

  constructor(readonly limits: QuotaLimits) {}

  async spend(keys: QuotaKeys, units: number, now: number): Promise<QuotaDecision> {
    // Read and charge with no await between, as the Redis script does in one step.
    const use = this.read(keys, now);
    const by = overBudget(this.limits, { person: use.person.used, channel: use.channel.used }, units);
    if (by) return { ...use, allowed: false, by };
    const day = utcDay(now);
    this.used.set(`person:${keys.person}:${day}`, use.person.used + units);
    this.used.set(`channel:${keys.channel}:${day}`, use.channel.used + units);
    return { allowed: true, person: { ...use.person, used: use.person.used + units }, channel: { ...use.channel, used: use.channel.used + units }, resetsAt: use.resetsAt };
  }

  async usage(keys: QuotaKeys, now: number): Promise<QuotaUse> {
    return this.read(keys, now);
  }

  private read(keys: QuotaKeys, now: number): QuotaUse {
    const day = utcDay(now);
    return {
      person: { used: this.used.get(`person:${keys.person}:${day}`) ?? 0, limit: this.limits.person },
      channel: { used: this.used.get(`channel:${keys.channel}:${day}`) ?? 0, limit: this.limits.channel },
      resetsAt: nextUtcMidnight(now),
    };
  }
}
