import type { RedisOptions } from 'ioredis';
import { DailiesError } from '../errors.ts';

/**
 * Turns `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS) into ioredis
 * options. BullMQ is given options rather than client instances so that it creates and owns
 * its blocking connections (workers and QueueEvents each need their own).
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new DailiesError('bad_input', `The Redis address "${url}" is not a URL; use redis://host:6379.`, { cause });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new DailiesError('bad_input', `The Redis address "${url}" must start with redis:// or rediss://.`);
  }
  const db = parsed.pathname.replace(/^\//, '');
  const options: RedisOptions = {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  if (db) {
    const n = Number(db);
    if (!Number.isInteger(n) || n < 0) throw new DailiesError('bad_input', `The Redis database "${db}" in "${url}" must be a number.`);
    options.db = n;
  }
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options;
}

/**
 * Options for a client of the given role. Workers wait through Redis outages (a render must
 * not fail because Redis restarted), so their commands never give up; the bot side should
 * answer "try again" within seconds instead of hanging a chat command.
 */
export function redisClientOptions(base: RedisOptions, role: 'worker' | 'producer'): RedisOptions {
  return role === 'worker'
    ? { ...base, maxRetriesPerRequest: null }
    : { ...base, maxRetriesPerRequest: 2, connectTimeout: 5_000 };
}
