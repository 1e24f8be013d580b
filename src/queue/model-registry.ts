import type { Redis } from 'ioredis';
import type { PromptVocabulary } from '../core/prompt-vocabulary.ts';
import { modelKey } from './model-queue-name.ts';

/** A model some worker has served: where its queue is, and until when its newest heartbeat holds. */
export interface RegisteredModel {
  /** As the model's package names it, e.g. "shapes-v2". */
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
 * model whose workers are all gone. Three keys under the installation's prefix, shared by every
 * queue base name: `<prefix>:models` (sorted set, name by alive-until), `<prefix>:models:queues`
 * and `<prefix>:models:vocabularies` (hash: model key -> JSON of the model's prompt vocabulary,
 * the words replies match; written less often than the beat, as it is larger and rarely changes).
 */
export class ModelRegistry {
  private readonly liveKey: string;
  private readonly queuesKey: string;
  private readonly vocabulariesKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.liveKey = `${prefix}:models`;
    this.queuesKey = `${prefix}:models:queues`;
    this.vocabulariesKey = `${prefix}:models:vocabularies`;
  }

  /** A worker of `name`, serving `queueName`, is alive until `liveUntil` (epoch ms). */
  async announce(name: string, queueName: string, liveUntil: number): Promise<void> {
    await this.redis.multi().zadd(this.liveKey, 'GT', liveUntil, name).hset(this.queuesKey, name, queueName).exec();
  }

  /** The prompt vocabulary `name`'s package declares; null clears it (the model declares none). */
  async publishVocabulary(name: string, vocabulary: PromptVocabulary | null): Promise<void> {
    if (vocabulary) await this.redis.hset(this.vocabulariesKey, modelKey(name), JSON.stringify(vocabulary));
    else await this.redis.hdel(this.vocabulariesKey, modelKey(name));
  }

  /** `name`'s prompt vocabulary as stored (JSON), or null; unchecked, so a reader validates it before use. */
  storedVocabulary(name: string): Promise<string | null> {
    return this.redis.hget(this.vocabulariesKey, modelKey(name));
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
    if (stale.length) {
      await this.redis
        .multi()
        .zrem(this.liveKey, ...stale)
        .hdel(this.queuesKey, ...stale)
        .hdel(this.vocabulariesKey, ...stale.map(modelKey))
        .exec();
    }
    return models;
  }
}
