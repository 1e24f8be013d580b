import type { AuditEntry, AuditLog } from './ports/audit-log.ts';
import type { ChatUser, ThreadRef } from './ports/chat-adapter.ts';
import type { Logger } from './runtime.ts';

/**
 * Writes to the audit log without making anyone wait for it: the person's action has already
 * happened (or been refused), and an audit store that is slow or down must not turn that into a
 * timeout or an error in chat. A failed write is logged as a warning and dropped.
 */
export function recordAudit(log: AuditLog | null | undefined, entry: AuditEntry, logger: Logger): void {
  if (!log) return;
  // The export prints one entry per line, and a prompt may hold line breaks.
  const oneLine = { ...entry, what: entry.what.replace(/\s*[\r\n]+\s*/g, ' ') };
  try {
    void log.record(oneLine).catch((error: unknown) => logger.warn(`could not record a ${entry.kind} in the audit log`, error));
  } catch (error) {
    logger.warn(`could not record a ${entry.kind} in the audit log`, error);
  }
}

/** The `where` of an entry about a thread. */
export function auditPlace(thread: ThreadRef, sessionId?: string): Pick<AuditEntry, 'platform' | 'channelId' | 'threadId' | 'sessionId'> {
  return { platform: thread.platform, channelId: thread.channelId, threadId: thread.threadId, ...(sessionId !== undefined ? { sessionId } : {}) };
}

/** The `who` of an entry: id and display name only (no moderator flag or other platform detail). */
export function auditActor(user: Pick<ChatUser, 'id' | 'name'>): AuditEntry['actor'] {
  return { id: user.id, name: user.name };
}
