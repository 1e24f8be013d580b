import { DailiesError } from '../errors.ts';
import type { ChatUser } from './ports/chat-adapter.ts';
import type { Session } from './session.ts';

/**
 * Who may do what. Anyone in the thread may refine and vote (that is the point of a shared
 * session); ending things for everyone — finalizing, cancelling, closing a vote — is for the
 * person who started the session or a platform moderator.
 */

export function canManage(session: Session, user: ChatUser): boolean {
  return user.id === session.owner.id || user.canModerate === true;
}

/** `what` completes "Only the session owner (…) or a moderator can …", e.g. "cancel renders". */
export function requireManager(session: Session, user: ChatUser, what: string): void {
  if (!canManage(session, user)) {
    throw new DailiesError('forbidden', `Only the session owner (${session.owner.name}) or a moderator can ${what}; ask them, or start your own session with /video.`);
  }
}
