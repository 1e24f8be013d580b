import type { Redis } from 'ioredis';
import { z } from 'zod';
import { AUDIT_KINDS, type AuditEntry, type AuditLog, type AuditQuery } from '../core/ports/audit-log.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { reachRedis } from '../redis/unreachable.ts';

const ADD = LuaScript.fromFile(new URL('./lua/audit-add-1.lua', import.meta.url));

export const DEFAULT_AUDIT_RETENTION_MS = 90 * 24 * 3_600_000;

/** The one stream an installation's audit log lives in; the bot writes it and `dailies audit` reads it. */
export function auditStreamKey(prefix: string): string {
  return `${prefix}:audit`;
}

export interface RedisAuditLogOptions {
  redis: Redis;
  /** The installation's prefix (DAILIES_PREFIX); the stream is `<prefix>:audit`. */
  prefix: string;
  /** Entries older than this are dropped as new ones are added, and not listed; default 90 days. */
  retentionMs?: number;
  now?: () => number;
}

/**
 * What is read back is checked, not trusted: an entry written by an older or newer version, or by
 * hand, is skipped rather than breaking the whole export.
 */
const StoredEntry = z.object({
  at: z.number().int().nonnegative(),
  kind: z.enum(AUDIT_KINDS),
  platform: z.enum(['local', 'discord', 'slack']),
  channelId: z.string(),
  threadId: z.string().optional(),
  sessionId: z.string().optional(),
  actor: z.object({ id: z.string(), name: z.string() }).nullable(),
  what: z.string(),
  jobId: z.string().optional(),
  code: z.string().optional(),
});

/**
 * How far a stream id may run ahead of its entry's `at`: an entry that arrived behind a later
 * one was added under that one's ms (see lua/audit-add-1.lua), so a read up to `until` looks
 * this much further and filters by `at`. Bots' clocks a few minutes apart stay inside it.
 */
const LATE_MS = 5 * 60_000;
const PAGE = 500;

/**
 * AuditLog on one Redis Stream per installation, ids taken from each entry's `at`, so a time
 * range is an XRANGE and retention is a delete of what fell out of the window on each add (no
 * sweeper); see lua/audit-add-1.lua.
 */
export class RedisAuditLog implements AuditLog {
  private readonly redis: Redis;
  readonly key: string;
  private readonly retentionMs: number;
  private readonly now: () => number;

  constructor(options: RedisAuditLogOptions) {
    this.redis = options.redis;
    this.key = auditStreamKey(options.prefix);
    this.retentionMs = options.retentionMs ?? DEFAULT_AUDIT_RETENTION_MS;
    this.now = options.now ?? Date.now;
  }

  async record(entry: AuditEntry): Promise<void> {
    const at = Math.max(0, Math.floor(entry.at));
    const oldest = Math.max(0, Math.floor(this.now() - this.retentionMs));
    // Already out of the window: behind newer entries it would get a new id and outlive its time.
    if (at < oldest) return;
    await reachRedis(ADD.run(this.redis, [this.key], [String(at), String(oldest), String(this.retentionMs), JSON.stringify({ ...entry, at })]));
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const since = Math.max(query.since, this.now() - this.retentionMs);
    const until = query.until ?? Number.POSITIVE_INFINITY;
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    const end = Number.isFinite(until) ? String(Math.max(0, Math.floor(until + LATE_MS))) : '+';
    const found: AuditEntry[] = [];
    let start = String(Math.max(0, Math.ceil(since)));
    while (found.length < limit) {
      const page = await reachRedis(this.redis.xrange(this.key, start, end, 'COUNT', PAGE));
      for (const [, fields] of page) {
        const entry = parseEntry(fields);
        if (entry && entry.at >= since && entry.at < until && found.length < limit) found.push(entry);
      }
      if (page.length < PAGE) break;
      // The id after the last one read (an exclusive `(id` start needs Redis 6.2).
      const [ms, seq] = page.at(-1)![0].split('-');
      start = `${ms}-${BigInt(seq ?? '0') + 1n}`;
    }
    // Stable: entries with the same `at` keep the order they were added in.
    return found.sort((a, b) => a.at - b.at);
  }
}

function parseEntry(fields: string[]): AuditEntry | null {
  let json: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'e') json = fields[i + 1];
  if (json === undefined) return null;
  try {
    const parsed = StoredEntry.safeParse(JSON.parse(json));
    return parsed.success ? (parsed.data as AuditEntry) : null;
  } catch {
    return null;
  }
}
