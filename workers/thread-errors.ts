import { DailiesError, isDailiesError, type ErrorCode } from '../src/errors.ts';
import type { SerializedError } from './engine-protocol.ts';

/**
 * Errors across a worker thread's message port: structured cloning keeps an Error's message but
 * drops its class, so a DailiesError's code (what the job's failure and retries depend on) is
 * carried explicitly and restored on the other side.
 */
export function serializeError(error: unknown): SerializedError {
  if (isDailiesError(error)) return { name: error.name, message: error.message, code: error.code, retryable: error.retryable };
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

export function reviveError(error: SerializedError): Error {
  if (error.code) return new DailiesError(error.code as ErrorCode, error.message, { retryable: error.retryable ?? false });
  const revived = new Error(error.message);
  revived.name = error.name;
  if (error.stack) revived.stack = error.stack;
  return revived;
}
