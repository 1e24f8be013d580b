import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VideoModel } from '../../src/core/ports/video-model.ts';
import type { PromptVocabulary } from '../../src/core/prompt-vocabulary.ts';
import { ModelQueues } from '../../src/queue/model-queues.ts';
import { ModelRegistry } from '../../src/queue/model-registry.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { RenderWorker } from '../../workers/worker.ts';
import { GradientTestModel } from './fixtures/gradient-test-model.ts';
import { rawTestMedia } from './fixtures/raw-test-media.ts';
import { testQueue, waitFor } from './fixtures/redis-test-env.ts';

// A worker publishes its model's prompt vocabulary beside its heartbeat; a bot reads it through
// ModelQueues (the core's ModelCatalog), all on real Redis.
describe("a worker's prompt vocabulary in the model registry", () => {
  const env = testQueue();
  let dir: string;
  let redis: Redis;
  let registry: ModelRegistry;
  const running: RenderWorker[] = [];

  const start = async (name: string, promptVocabulary?: PromptVocabulary) => {
    const double = new GradientTestModel({ name });
    const model: VideoModel = { name, defaults: double.defaults, promptVocabulary, generate: (r, o) => double.generate(r, o), dispose: () => double.dispose() };
    const worker = new RenderWorker({
      redis: env.redis,
      queueName: `${env.queueName}.${name}`,
      prefix: env.prefix,
      workerId: `w-${name}`,
      createModel: async () => model,
      media: rawTestMedia(),
      store: new FsArtifactStore({ root: dir }),
      heartbeatMs: 20,
      log: () => {},
    });
    running.push(worker);
    await worker.start();
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-vocabulary-'));
    redis = new Redis(env.redis);
    registry = new ModelRegistry(redis, env.prefix);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((w) => w.close(1000)));
    await env.cleanup();
  });
  afterAll(async () => {
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('is written at start, read by the bot, and written again after Redis lost it', async () => {
    const words: PromptVocabulary = { motions: ['moving', 'growing', 'still'] };
    await start('shapes-test', words);
    const bot = new ModelQueues({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, positionUpdates: false, onError: () => {}, defaultModel: 'shapes-test' });
    try {
      expect(await bot.promptVocabulary()).toEqual(words);
    } finally {
      await bot.close();
    }
    await redis.del(`${env.prefix}:models:vocabularies`);
    // Every 12th beat (about a minute at the default 5-s heartbeat; 20 ms here).
    expect(await waitFor(() => registry.storedVocabulary('shapes-test'), 5_000, 'the vocabulary written again')).toBe(JSON.stringify(words));
  });

  it('clears what an earlier version of the model published when the new one declares none', async () => {
    await registry.publishVocabulary('plain-test', { colours: ['teal'] });
    await start('plain-test');
    expect(await registry.storedVocabulary('plain-test')).toBeNull();
  });
});
