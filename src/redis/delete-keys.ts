import type { Redis } from 'ioredis';

/**
 * Deletes every key that starts with `keyStart` (SCAN, never KEYS, so a large database is not
 * blocked), returning how many went. For throwaway prefixes: benches and tests.
 */
export async function deleteKeysStartingWith(redis: Redis, keyStart: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyStart.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
