import { DailiesError } from '../errors.ts';
import type { ChatEvent } from './ports/chat-adapter.ts';
import type { PersonBlock } from './ports/person-blocks.ts';
import { clockText } from './clock-text.ts';

/**
 * What a block means for the person's events: the workspace it holds in, and the one sentence
 * that refuses them. The check itself runs in the dispatcher (app.ts), beside the event's
 * session read, so it costs no extra wait.
 */

/** The workspace a block holds in: `discord:<guild>`, `slack:<team>`, or `local` for the web chat. */
export function blockScopeOf(event: Pick<ChatEvent, 'platform' | 'workspaceId'>): string {
  return event.workspaceId ? `${event.platform}:${event.workspaceId}` : event.platform;
}

/** The moderator's reason as the end of a sentence: no doubled full stop. */
export function reasonClause(reason: string | undefined): string {
  const text = reason?.trim().replace(/[.\s]+$/u, '');
  return text ? `: ${text}${/[!?]$/.test(text) ? '' : '.'}` : '.';
}

/** The refusal a blocked person gets for every command, reply and button. */
export function blockedError(block: PersonBlock, now: number): DailiesError {
  return new DailiesError('forbidden', `You are blocked from dailies until ${clockText(block.until, now)} by a moderator${reasonClause(block.reason)}`);
}
