import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { PersonBlock, PersonBlocks } from '../core/ports/person-blocks.ts';
import { reachRedis } from '../redis/unreachable.ts';

/**
 * Blocks in Redis, shared by every bot process. Each block is one string key that expires at the
 * block's end (PXAT), so the per-event check is a single GET and an ended block disappears by
 * itself. A sorted set per scope (score: the end) lists them for `/block` without a person; it
 * expires with its longest block, and ended members are trimmed whenever it is read or written.
 *
 *   <prefix>block:<scope>:<personId>   JSON PersonBlock, PXAT until
 *   <prefix>blocks:<scope>             zset personId -> until
 */

const Stored = z.object({
  person: z.object({ id: z.string(), name: z.string() }),
  until: z.number(),
  reason: z.string().optional(),
  by: z.object({ id: z.string(), name: z.string() }),
  at: z.number(),
});

export class RedisPersonBlocks implements PersonBlocks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'dailies:',
  ) {}

  private key(scope: string, personId: string): string {
    return `${this.prefix}block:${scope}:${personId}`;
  }

  private index(scope: string): string {
    return `${this.prefix}blocks:${scope}`;
  }

  async get(scope: string, personId: string, now: number): Promise<PersonBlock | null> {
    return this.read(await reachRedis(this.redis.get(this.key(scope, personId))), now);
  }

  /** A stored block still running at `now`; a value that does not parse (never written by this class) counts as none. */
  private read(raw: string | null, now: number): PersonBlock | null {
    if (raw === null) return null;
    let parsed: ReturnType<typeof Stored.safeParse>;
    try {
      parsed = Stored.safeParse(JSON.parse(raw));
    } catch {
      return null;
    }
    // Redis expires the key on its own clock; a bot whose clock runs ahead must not extend a block.
    return parsed.success && parsed.data.until > now ? parsed.data : null;
  }

  async put(scope: string, block: PersonBlock): Promise<void> {
    const index = this.index(scope);
    await reachRedis(
      this.redis
        .multi()
        .set(this.key(scope, block.person.id), JSON.stringify(block), 'PXAT', block.until)
        .zadd(index, block.until, block.person.id)
        .zremrangebyscore(index, '-inf', block.at)
        // The index lives as long as its longest block: NX gives a new index its expiry, GT extends it.
        .pexpireat(index, block.until, 'NX')
        .pexpireat(index, block.until, 'GT')
        .exec(),
    );
  }

  async remove(scope: string, personId: string): Promise<boolean> {
    const results = await reachRedis(this.redis.multi().del(this.key(scope, personId)).zrem(this.index(scope), personId).exec());
    return results?.[0]?.[1] === 1;
  }

  async list(scope: string, now: number): Promise<PersonBlock[]> {
    const index = this.index(scope);
    const ids = await reachRedis(this.redis.zrangebyscore(index, `(${now}`, '+inf'));
    if (ids.length === 0) return [];
    const raws = await reachRedis(this.redis.mget(ids.map((id) => this.key(scope, id))));
    return raws.map((raw) => this.read(raw, now)).filter((b): b is PersonBlock => b !== null).sort((a, b) => a.until - b.until);
  }
}
