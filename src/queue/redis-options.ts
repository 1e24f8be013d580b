import type { RedisOptions } from 'ioredis';
import { DailiesError } from '../errors.ts';
import { redactUrl } from '../redact-url.ts';

/** The shape every Redis address must have, as told to people. */
export const REDIS_URL_FORM = 'redis://[user:password@]host[:port][/db] (rediss:// for TLS, db a whole number)';

/**
 * What is wrong with a Redis address, as the end of "<subject> must look like <form>, but ...",
 * or null when it is usable. The address is quoted with its credentials redacted. Checked before
 * anything connects: ioredis would otherwise send `SELECT NaN` for "/abc" and crash the process
 * with an unhandled ReplyError.
 */
export function redisUrlProblem(url: string): string | null {
  const shown = `"${redactUrl(url)}"`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${shown} is not a URL`;
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `${shown} starts with ${parsed.protocol}`;
  if (!parsed.hostname) return `${shown} names no host`;
  if (decodeSafely(parsed.username) === null || decodeSafely(parsed.password) === null) return `${shown} has a broken %-escape in its user name or password`;
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,5}$/.test(db)) return `${shown} has "${redactUrl(decodeSafely(db) ?? db)}" where the db number goes`;
  return null;
}

function decodeSafely(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** One sentence for a bad Redis address named by `subject` (REDIS_URL, --redis), ending in `fix`; null when it is usable. */
export function redisUrlError(subject: string, url: string, fix: string): string | null {
  const problem = redisUrlProblem(url);
  return problem === null ? null : `${subject} must look like ${REDIS_URL_FORM}, but ${problem}; ${fix}.`;
}

/**
 * Turns `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS) into ioredis
 * options. BullMQ is given options rather than client instances so that it creates and owns
 * its blocking connections (workers and QueueEvents each need their own).
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const error = redisUrlError('The Redis address', url, 'fix it and try again');
  if (error) throw new DailiesError('bad_input', error);
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  const options: RedisOptions = {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  if (db) options.db = Number(db);
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
