import type { ChatEvent, ChatEventHandler, EventOutcome } from './ports/chat-adapter.ts';
import { errorOutcome } from './outcome.ts';
import type { Logger } from './runtime.ts';

/**
 * The one way an adapter hands a platform event to the core. Never throws: whatever the handler
 * throws becomes the core's standard error outcome (outcome.ts: a DailiesError's own sentence and
 * code, anything else logged and shown as INTERNAL_MESSAGE), so every platform says the same
 * thing when something breaks and the adapter keeps serving.
 */

/** What an adapter answers when an event arrives while no handler is attached (before start, during stop). */
export const NOT_RUNNING_MESSAGE = 'The bot is not running right now; try again in a minute.';

export async function callCore(handler: ChatEventHandler | undefined, event: ChatEvent, log: Logger): Promise<EventOutcome> {
  if (!handler) return { ephemeral: NOT_RUNNING_MESSAGE, error: { code: 'unavailable', message: NOT_RUNNING_MESSAGE } };
  try {
    return (await handler(event)) ?? {};
  } catch (error) {
    // The line names the event, so a crash in the logs can be matched to what the user did.
    const about = `${event.platform} ${event.kind} ${event.id}`;
    return errorOutcome(error, {
      warn: (message, detail) => log.warn(`${message} (${about})`, detail),
      error: (message, detail) => log.error(`${message} (${about})`, detail),
    });
  }
}

/** Returned by `withinDeadline` when the core has not answered yet; the call itself goes on. */
export const STILL_RUNNING: unique symbol = Symbol('still running');

/**
 * The core's outcome if it arrives within `ms`, else STILL_RUNNING; for platforms whose first
 * response has a deadline (Discord's 3 s, and a modal only as the first response; the web chat's
 * 202 "pending"). Keep the promise from callCore to deliver the late outcome.
 */
export function withinDeadline(outcome: Promise<EventOutcome>, ms: number): Promise<EventOutcome | typeof STILL_RUNNING> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof STILL_RUNNING>((resolve) => {
    timer = setTimeout(resolve, ms, STILL_RUNNING);
    // A pending deadline must not keep the process alive on its own.
    (timer as { unref?: () => void }).unref?.();
  });
  return Promise.race([outcome, deadline]).finally(() => clearTimeout(timer));
}
