import type { AuditEntry, AuditLog, AuditQuery } from '../core/ports/audit-log.ts';

export interface MemoryAuditLogOptions {
  /** Entries older than this (by `at`) are dropped; default: kept as long as the process lives. */
  retentionMs?: number;
  now?: () => number;
}

/**
 * The in-process AuditLog for unit tests and single-process demos. Entries are kept as JSON so
 * that a caller mutating an entry after recording it (or one it listed) changes nothing stored,
 * as with Redis.
 */
export class MemoryAuditLog implements AuditLog {
  private entries: string[] = [];
  private readonly retentionMs: number;
  private readonly now: () => number;

  constructor(options: MemoryAuditLogOptions = {}) {
    this.retentionMs = options.retentionMs ?? Number.POSITIVE_INFINITY;
    this.now = options.now ?? Date.now;
  }

  async record(entry: AuditEntry): Promise<void> {
    const oldest = this.now() - this.retentionMs;
    this.entries = this.entries.filter((json) => (JSON.parse(json) as AuditEntry).at >= oldest);
    if (entry.at >= oldest) this.entries.push(JSON.stringify(entry));
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const oldest = Math.max(query.since, this.now() - this.retentionMs);
    const until = query.until ?? Number.POSITIVE_INFINITY;
    // Array sort is stable: entries with the same `at` stay in the order they were recorded.
    const found = this.entries
      .map((json) => JSON.parse(json) as AuditEntry)
      .filter((e) => e.at >= oldest && e.at < until)
      .sort((a, b) => a.at - b.at);
    return query.limit === undefined ? found : found.slice(0, query.limit);
  }
}
