import type { Redis } from 'ioredis';
import type { DefaultName, SavedDefaults, SettingsStore } from '../core/ports/settings-store.ts';
import { reachRedis } from '../redis/unreachable.ts';

/**
 * Render defaults in Redis: one hash per scope (`<prefix>settings:<scope>`), a field per default
 * holding its JSON value, so two people changing different defaults of one channel at once both
 * land. A read of a person's and a channel's defaults is one pipelined round trip.
 */
export class RedisSettingsStore implements SettingsStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'dailies:',
  ) {}

  private key(scope: string): string {
    return `${this.prefix}settings:${scope}`;
  }

  async read(person: string, channel: string): Promise<{ person: unknown; channel: unknown }> {
    const [mine, theirs] = await reachRedis(Promise.all([this.redis.hgetall(this.key(person)), this.redis.hgetall(this.key(channel))]));
    return { person: decode(mine), channel: decode(theirs) };
  }

  async change(scope: string, set: SavedDefaults, clear: readonly DefaultName[]): Promise<unknown> {
    const key = this.key(scope);
    const tx = this.redis.multi();
    const fields = Object.entries(set).filter(([, v]) => v !== undefined);
    if (fields.length) tx.hset(key, Object.fromEntries(fields.map(([k, v]) => [k, JSON.stringify(v)])));
    if (clear.length) tx.hdel(key, ...clear);
    tx.hgetall(key);
    const replies = await reachRedis(tx.exec());
    const last = replies?.at(-1);
    return decode((last?.[1] as Record<string, string> | undefined) ?? {});
  }
}

/** Each field's JSON; a field that does not parse is left out (the core's check drops bad values too). */
function decode(hash: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(hash)) {
    try {
      out[name] = JSON.parse(raw);
    } catch {
      // a value written by hand or by a future release: ignored
    }
  }
  return out;
}
