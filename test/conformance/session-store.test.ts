import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemorySessionStore } from '../../src/storage/memory-session-store.ts';
import { RedisSessionStore } from '../../src/storage/redis-session-store.ts';
import { runSessionStoreConformance } from './session-store.conformance.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

runSessionStoreConformance('memory', async (now) => ({ store: new MemorySessionStore({ now }), cleanup: async () => {} }));

runSessionStoreConformance('redis', async (now) => {
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  const redis = new Redis(REDIS_URL);
  const clients = [redis];
  return {
    store: new RedisSessionStore({ redis, prefix, now }),
    reopen: async () => {
      const second = new Redis(REDIS_URL);
      clients.push(second);
      return new RedisSessionStore({ redis: second, prefix, now });
    },
    cleanup: async () => {
      await deleteKeysStartingWith(redis, prefix);
      await Promise.all(clients.map((c) => c.quit()));
    },
  };
});
