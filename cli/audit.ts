import { Redis } from 'ioredis';
import { DEFAULT_REDIS_URL, loadConfigWithRedisFlag } from '../src/config.ts';
import type { AuditEntry } from '../src/core/ports/audit-log.ts';
import { DailiesError } from '../src/errors.ts';
import { redactUrl } from '../src/redact-url.ts';
import { RedisAuditLog } from '../src/storage/redis-audit-log.ts';
import { parseCliArgs, wholeNumber } from '../src/util/cli-args.ts';
import { redisAnswers } from './redis-connection.ts';

const COMMAND = 'dailies audit';

const HELP = `Usage: ${COMMAND} --since WHEN [--until WHEN] [--json] [--limit N]

Exports the audit log the bot keeps in Redis: every prompt, revision, vote, pick, finalize,
cancel, removal, withheld take and refusal, with who, when and where. Oldest first.

  --since WHEN   the first moment to export: a date (2026-12-01), a date and time
                 (2026-12-01T10:00Z; a time without a zone is UTC), or a time ago (30m, 24h, 7d, 2w)
  --until WHEN   export what happened before this moment (same forms; default: now)
  --limit N      at most N entries, the oldest first
  --json         one JSON object per line instead of the table
  --redis URL    Redis address (default $REDIS_URL or ${DEFAULT_REDIS_URL})

It reads the stream under $DAILIES_PREFIX (default dailies), so run it with the bot's settings;
entries older than $DAILIES_AUDIT_RETENTION_DAYS (default 90) are not kept.`;

const OPTIONS = { since: { type: 'string' }, until: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, redis: { type: 'string' } } as const;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const AGO = /^(\d+)([mhdw])$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/i;

/** A moment on the command line (`--since` / `--until`) as ms since the epoch. */
export function parseWhen(flag: string, text: string, now: number): number {
  const ago = AGO.exec(text);
  if (ago) return now - Number(ago[1]) * UNIT_MS[ago[2]!]!;
  const iso = ISO.exec(text);
  if (iso) {
    // The table prints UTC, so a time given without a zone means UTC too, not this machine's zone.
    const ms = Date.parse(iso[4] !== undefined && iso[7] === undefined ? `${text}Z` : text);
    // Date.parse rolls 2026-02-30 over into March; a calendar date must name a real day.
    const [, y, mo, d] = iso;
    const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
    const realDay = day.getUTCFullYear() === Number(y) && day.getUTCMonth() === Number(mo) - 1 && day.getUTCDate() === Number(d);
    if (Number.isFinite(ms) && realDay) return ms;
  }
  throw new DailiesError('bad_input', `${flag} must be a date (2026-12-01), a date and time (2026-12-01T10:00Z) or a time ago (24h, 7d), not "${text.slice(0, 40)}"; fix it and run again.`);
}

export interface AuditArgs {
  since: number;
  until?: number;
  limit?: number;
  json: boolean;
  redis?: string;
}

export function parseAuditArgs(argv: string[], now: number): AuditArgs | 'help' {
  const values = parseCliArgs(argv, OPTIONS, { command: COMMAND });
  if (values.help) return 'help';
  if (values.since === undefined) throw new DailiesError('bad_input', `${COMMAND} needs --since, the first moment to export, as in \`${COMMAND} --since 7d\`.`);
  const since = parseWhen('--since', values.since, now);
  const until = values.until === undefined ? undefined : parseWhen('--until', values.until, now);
  if (until !== undefined && until <= since) throw new DailiesError('bad_input', `--until (${utc(until)}) is not after --since (${utc(since)}); give an --until later than --since.`);
  const limit = wholeNumber('--limit', values.limit, undefined, 1);
  return { since, json: values.json === true, ...(until !== undefined ? { until } : {}), ...(limit !== undefined ? { limit } : {}), ...(values.redis !== undefined ? { redis: values.redis } : {}) };
}

/** "2026-12-01 10:00:03", always UTC: bots and readers may be in different zones. */
function utc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function who(e: AuditEntry): string {
  return e.actor ? e.actor.name : 'system';
}

function where(e: AuditEntry): string {
  return `${e.platform} ${e.channelId}${e.threadId ? `/${e.threadId}` : ''}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Fixed columns for the short fields; `what` runs to the end of the line. */
export function formatTable(entries: readonly AuditEntry[]): string {
  const whoWidth = Math.min(20, Math.max(3, ...entries.map((e) => who(e).length)));
  const whereWidth = Math.min(40, Math.max(5, ...entries.map((e) => where(e).length)));
  const row = (time: string, kind: string, person: string, place: string, what: string) =>
    `${time.padEnd(19)}  ${kind.padEnd(9)}  ${clip(person, whoWidth).padEnd(whoWidth)}  ${clip(place, whereWidth).padEnd(whereWidth)}  ${what}`;
  return [
    row('time (UTC)', 'kind', 'who', 'where', 'what'),
    ...entries.map((e) => row(utc(e.at), e.kind, who(e), where(e), e.code ? `[${e.code}] ${e.what}` : e.what)),
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseAuditArgs(argv, Date.now());
  if (args === 'help') {
    console.log(HELP);
    return 0;
  }
  const config = loadConfigWithRedisFlag(args.redis);
  if (!(await redisAnswers(config.REDIS_URL))) {
    throw new DailiesError('unavailable', `Nothing answers at ${redactUrl(config.REDIS_URL)}; start Redis or point REDIS_URL (or --redis) at the one the bot uses.`);
  }
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 30_000 });
  redis.on('error', () => {});
  try {
    const log = new RedisAuditLog({ redis, prefix: config.DAILIES_PREFIX, retentionMs: config.DAILIES_AUDIT_RETENTION_DAYS * 86_400_000 });
    const entries = await log.list({ since: args.since, ...(args.until !== undefined ? { until: args.until } : {}), ...(args.limit !== undefined ? { limit: args.limit } : {}) });
    if (args.json) {
      for (const e of entries) console.log(JSON.stringify(e));
    } else if (entries.length === 0) {
      console.log(`No audit entries from ${utc(args.since)} UTC${args.until !== undefined ? ` to ${utc(args.until)} UTC` : ''}.`);
    } else {
      console.log(formatTable(entries));
    }
    return 0;
  } finally {
    redis.disconnect();
  }
}
