import { DailiesError } from '../errors.ts';

/**
 * Redis being unreachable, told apart from Redis answering with an error: the first is an outage
 * a person can only wait out ("try again in a minute"), the second a bug. Bot-side clients are
 * set to give up fast (one retry, a command timeout), so these surface within seconds instead
 * of hanging a chat command until Redis returns.
 */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTCONN']);
const CONNECTION_MESSAGES = /Connection is closed|Command timed out|Stream isn't writeable|max retries per request|Reached the max retries/i;

export function isRedisUnreachable(error: unknown): boolean {
  if (!(error instanceof Error) || error.name === 'ReplyError') return false;
  const code = (error as { code?: unknown }).code;
  return error.name === 'MaxRetriesPerRequestError' || (typeof code === 'string' && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(error.message);
}

export const UNREACHABLE_MESSAGE = 'The queue is unreachable right now; try again in a minute.';

/** Awaits `work`, turning an outage into DailiesError('unavailable') with the cause kept. */
export async function reachRedis<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isRedisUnreachable(error)) throw new DailiesError('unavailable', UNREACHABLE_MESSAGE, { retryable: true, cause: error });
    throw error;
  }
}
