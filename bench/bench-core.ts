import { commands } from '../commands/index.ts';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ChatAdapter } from '../src/core/ports/chat-adapter.ts';
import { createAdmission, type Admission } from '../src/core/admission.ts';
import { createCore, type Core } from '../src/core/app.ts';
import { createDelivery, type Delivery } from '../src/core/delivery.ts';
import type { Logger } from '../src/core/runtime.ts';
import { BullmqJobQueue } from '../src/queue/bullmq-job-queue.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import { loadConfig, loadConfigWithRedisFlag } from '../src/config.ts';
import { loadPolicyConfig } from '../src/safety/policy-config.ts';
import { createPromptPolicy } from '../src/safety/prompt-policy.ts';
import { RedisTokenBucket } from '../src/safety/redis-token-bucket.ts';
import { RedisSessionStore } from '../src/storage/redis-session-store.ts';
import { deleteKeysStartingWith } from '../src/redis/delete-keys.ts';
import { wholeNumber } from '../src/util/cli-args.ts';

/**
 * The core as `dailies bot` wires it — Redis session store, Redis rate limiter, the real
 * BullmqJobQueue, delivery subscribed to the queue's events — on throwaway Redis keys, for the
 * command benches. No worker runs, so jobs only wait in the queue.
 */

export interface BenchCore {
  /** Every key this core writes starts with it; close() deletes them. */
  readonly prefix: string;
  readonly redis: Redis;
  readonly core: Core;
  readonly store: RedisSessionStore;
  readonly queue: BullmqJobQueue;
  readonly delivery: Delivery;
  readonly admission: Admission;
  /** Waits for the queue's event stream and starts delivery, as the bot does before taking commands. */
  start(): Promise<void>;
  /**
   * Drops every waiting job. Nothing renders here, so without it jobs would pile up from burst
   * to burst and each burst would measure a longer line than the one before.
   */
  emptyQueue(): Promise<void>;
  close(): Promise<void>;
}

const quiet: Logger = { warn: () => {}, error: () => {} };

export function createBenchCore(options: { redisUrl: string; adapters: readonly ChatAdapter[]; name: string; redis?: Redis }): BenchCore {
  const prefix = `dailies-${options.name}-${randomBytes(4).toString('hex')}`;
  // `redis`: a connection the adapters share, as `dailies bot` shares one (left open on close).
  const redis = options.redis ?? new Redis(options.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: null });
  const store = new RedisSessionStore({ redis, prefix: `${prefix}:s:` });
  // The per-person cap is the production default; every command comes from its own person.
  const queue = new BullmqJobQueue({ redis: redisOptionsFromUrl(options.redisUrl), prefix });
  const delivery = createDelivery({
    store,
    queue,
    adapters: options.adapters,
    artifacts: { publicUrl: (ref) => `bench://${ref.key}` },
    log: quiet,
  });
  const admission = createAdmission({ store, queue, delivery, log: quiet });
  const core = createCore({
    commands,
    store,
    queue,
    adapters: options.adapters,
    delivery,
    admission,
    policy: createPromptPolicy(loadPolicyConfig(loadConfig())),
    rateLimiter: new RedisTokenBucket(redis, { prefix: `${prefix}:` }),
    log: quiet,
  });
  return {
    prefix,
    redis,
    core,
    store,
    queue,
    delivery,
    admission,
    async start() {
      await queue.eventsReady();
      delivery.start();
    },
    emptyQueue: () => deleteKeysStartingWith(redis, `${prefix}:renders:`).then(() => {}),
    async close() {
      await admission.stop().catch(() => {});
      await delivery.stop().catch(() => {});
      await queue.close().catch(() => {});
      await store.close().catch(() => {});
      await deleteKeysStartingWith(redis, `${prefix}:`).catch(() => {});
      if (!options.redis) redis.disconnect();
    },
  };
}

/** Flags shared by the command benches (`--help` text is each bench's own). */
export const BURST_FLAGS = {
  redis: { type: 'string' },
  commands: { type: 'string' },
  bursts: { type: 'string' },
  warmup: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parsed burst flags, with each bench's own defaults for warm-up and output file. */
export function burstOptions(values: { redis?: string; commands?: string; bursts?: string; warmup?: string; out?: string }, defaults: { warmup: number; out: string }) {
  return {
    redisUrl: loadConfigWithRedisFlag(values.redis).REDIS_URL,
    commands: wholeNumber('--commands', values.commands, 200, 1),
    bursts: wholeNumber('--bursts', values.bursts, 3, 1),
    warmup: wholeNumber('--warmup', values.warmup, defaults.warmup, 0),
    out: values.out ?? defaults.out,
  };
}
