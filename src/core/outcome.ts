import { isDailiesError } from '../errors.ts';
import type { EventOutcome } from './ports/chat-adapter.ts';
import type { Logger } from './runtime.ts';

/**
 * Errors become outcomes, never exceptions to the adapter: the refusal sentence goes in
 * `ephemeral` (what the user sees) and, with its stable code, in `error` (what adapters and logs
 * branch on). Unexpected errors are logged and shown as one generic sentence.
 */

export const INTERNAL_MESSAGE = 'Something went wrong on the server; try again, and tell the server admin if it keeps happening.';

export function errorOutcome(error: unknown, log: Logger, extra: EventOutcome = {}): EventOutcome {
  if (isDailiesError(error)) {
    return { ...extra, ephemeral: error.message, error: { code: error.code, message: error.message } };
  }
  log.error('unexpected error while handling a chat event', error);
  return { ...extra, ephemeral: INTERNAL_MESSAGE, error: { code: 'internal', message: INTERNAL_MESSAGE } };
}
