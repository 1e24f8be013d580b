import type { Redis } from 'ioredis';

/** A model some worker has served: where its queue is, and until when its newest heartbeat holds. */
export interface RegisteredModel {
  /** As the model's package names it, e.g. "shapes-v1". */
  name: string;
  /** The BullMQ queue its workers take jobs from. */
  queueName: string;
  /** Epoch ms until which a worker of it is alive (its latest heartbeat's expiry); past: none is. */
  liveUntil: number;
}

/** Models not seen for this long drop out of the list (a test model, a model retired for good). */
const FORGET_AFTER_MS = 30 * 24 * 3_600_000;

/**
 * Which models the pool serves, kept by the workers' heartbeats: each beat moves its model's
 * "alive until" forward (never back: another worker of the same model may beat later) and says
 * which queue it serves. The bot reads it to route jobs, to answer /models, and to notice a
 * model whose workers are all gone. Two keys under the installation's prefix, shared by every
 * queue base name: `<prefix>:models` (sorted set, name by alive-until) and `<prefix>:models:queues`.
 */
export class ModelRegistry {
  private readonly liveKey: string;
  private readonly queuesKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.liveKey = `${prefix}:models`;
    this.queuesKey = `${prefix}:models:queues`;
  }

  /** A worker of `name`, serving `queueName`, is alive until `liveUntil` (epoch ms). */
  async announce(name: string, queueName: string, liveUntil: number): Promise<void> {
    await this.redis.multi().zadd(this.liveKey, 'GT', liveUntil, name).hset(this.queuesKey, name, queueName).exec();
  }

  /**
   * Every model seen in the last 30 days, live or not. A worker that leaves undoes nothing here
   * (others may serve the same model): its beat lapses, and the model reads as unserved.
   */
  async list(now = Date.now()): Promise<RegisteredModel[]> {
    const [scored, queues] = await Promise.all([this.redis.zrange(this.liveKey, 0, -1, 'WITHSCORES'), this.redis.hgetall(this.queuesKey)]);
    const models: RegisteredModel[] = [];
    const stale: string[] = [];
    for (let i = 0; i < scored.length; i += 2) {
      const name = scored[i]!;
      const liveUntil = Number(scored[i + 1]);
      if (now - liveUntil > FORGET_AFTER_MS) stale.push(name);
      else if (queues[name]) models.push({ name, queueName: queues[name], liveUntil });
    }
    if (stale.length) await this.redis.multi().zrem(this.liveKey, ...stale).hdel(this.queuesKey, ...stale).exec();
    return models;
  }
}
