import type { Platform } from './chat-adapter.ts';

/**
 * The audit log: who asked for what, when, and what the bot refused or held back. It answers a
 * moderator's or an admin's question after the fact ("who prompted this?", "what did the frame
 * check stop last week?"), so it outlives sessions and is kept for a configured window
 * (DAILIES_AUDIT_RETENTION_DAYS). The Redis implementation is in src/storage; every
 * implementation passes test/conformance/audit-log.conformance.ts.
 *
 * Writing to it is never part of a user's action: callers go through `recordAudit`
 * (src/core/audit.ts), which does not wait and only logs a failed write.
 */

export const AUDIT_KINDS = ['prompt', 'revision', 'vote', 'pick', 'finalize', 'cancel', 'removal', 'withheld', 'refusal', 'policy', 'block'] as const;

/**
 * - prompt: a session or storyboard started; revision: a new version of a prompt.
 * - vote / pick: a vote for a take, a manager closing a vote with their pick.
 * - finalize / cancel: a final render asked for, a render cancelled.
 * - removal: a moderator removing a take (/remove, the Remove button), with the finals and films made from it.
 * - withheld: a take the frame check kept back. refusal: any request the bot turned down.
 * - policy: a moderator adding or removing a channel's blocked term (/policy).
 * - block: a moderator blocking a person from the bot for a while, or ending it early (/block, /unblock).
 */
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditEntry {
  /** When it happened, ms since the epoch. */
  at: number;
  kind: AuditKind;
  platform: Platform;
  channelId: string;
  threadId?: string;
  sessionId?: string;
  /** Who did it; null for the system itself (the frame check, a deadline). */
  actor: { id: string; name: string } | null;
  /**
   * One line for a person reading the export: the prompt, the change, "take 2 of v1", the
   * refusal sentence, "v1#2: porn 0.93 ≥ 0.80".
   */
  what: string;
  jobId?: string;
  /** Refusals: the DailiesError code (policy_refused, forbidden, …). */
  code?: string;
}

export interface AuditQuery {
  /** Inclusive, ms since the epoch. */
  since: number;
  /** Exclusive, ms since the epoch; default: now and beyond. */
  until?: number;
  /** At most this many entries, the oldest first. */
  limit?: number;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /**
   * Entries with `since <= at < until` still inside the retention window, oldest first. Entries
   * recorded a little out of order (two bots, clocks a few ms apart) are returned in `at` order.
   */
  list(query: AuditQuery): Promise<AuditEntry[]>;
}
