import type { Redis } from 'ioredis';
import { MAX_CHANNEL_TERMS, type ChannelTerms } from '../core/ports/channel-terms.ts';
import { reachRedis } from '../redis/unreachable.ts';
import { tooMany } from './memory-channel-terms.ts';

/** Channel terms in Redis, one set per channel, shared by every bot process. */
export class RedisChannelTerms implements ChannelTerms {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'dailies:',
  ) {}

  private key(channel: string): string {
    return `${this.prefix}policy:${channel}`;
  }

  async list(channel: string): Promise<string[]> {
    return (await reachRedis(this.redis.smembers(this.key(channel)))).sort();
  }

  async add(channel: string, term: string): Promise<boolean> {
    const key = this.key(channel);
    // The cap is checked before the add; two moderators adding at once may pass it by one, which is harmless.
    if ((await reachRedis(this.redis.scard(key))) >= MAX_CHANNEL_TERMS && !(await reachRedis(this.redis.sismember(key, term)))) throw tooMany();
    return (await reachRedis(this.redis.sadd(key, term))) === 1;
  }

  async remove(channel: string, term: string): Promise<boolean> {
    return (await reachRedis(this.redis.srem(this.key(channel), term))) === 1;
  }
}
