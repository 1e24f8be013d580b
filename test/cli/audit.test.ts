import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable, parseAuditArgs, parseWhen } from '../../cli/audit.ts';
import type { AuditEntry } from '../../src/core/ports/audit-log.ts';
import { loadConfig } from '../../src/config.ts';
import { isDailiesError } from '../../src/errors.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { RedisAuditLog } from '../../src/storage/redis-audit-log.ts';

/*
 * `dailies audit` as an admin runs it: the real entry point in a child process, reading a stream
 * the test fills first under a prefix of its own (the CLI finds it through DAILIES_PREFIX).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const run = promisify(execFile);

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 1, 12);

function message(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return isDailiesError(e) ? `${e.code}: ${e.message}` : String(e);
  }
}

describe('dailies audit arguments', () => {
  it('reads dates, dates with times (UTC unless zoned) and times ago', () => {
    expect(parseWhen('--since', '2026-12-01', NOW)).toBe(Date.UTC(2026, 11, 1));
    expect(parseWhen('--since', '2026-12-01T10:00Z', NOW)).toBe(Date.UTC(2026, 11, 1, 10));
    expect(parseWhen('--since', '2026-12-01T10:00', NOW)).toBe(Date.UTC(2026, 11, 1, 10));
    expect(parseWhen('--since', '2026-12-01T10:00:30+02:00', NOW)).toBe(Date.UTC(2026, 11, 1, 8, 0, 30));
    expect(parseWhen('--since', '24h', NOW)).toBe(NOW - 24 * HOUR);
    expect(parseWhen('--since', '7d', NOW)).toBe(NOW - 7 * 24 * HOUR);
    expect(parseWhen('--since', '30m', NOW)).toBe(NOW - 30 * 60_000);
    expect(parseWhen('--since', '2w', NOW)).toBe(NOW - 14 * 24 * HOUR);
  });

  it('refuses bad input with one sentence naming the fix', () => {
    const bad = 'bad_input: --since must be a date (2026-12-01), a date and time (2026-12-01T10:00Z) or a time ago (24h, 7d), not';
    expect(message(() => parseWhen('--since', 'yesterday', NOW))).toBe(`${bad} "yesterday"; fix it and run again.`);
    expect(message(() => parseWhen('--since', '2026-02-30', NOW))).toBe(`${bad} "2026-02-30"; fix it and run again.`);
    expect(message(() => parseWhen('--since', '7 days', NOW))).toBe(`${bad} "7 days"; fix it and run again.`);
    expect(message(() => parseAuditArgs([], NOW))).toBe('bad_input: dailies audit needs --since, the first moment to export, as in `dailies audit --since 7d`.');
    expect(message(() => parseAuditArgs(['--since', '1d', '--until', '2d'], NOW))).toBe(
      'bad_input: --until (2026-11-29 12:00:00) is not after --since (2026-11-30 12:00:00); give an --until later than --since.',
    );
    expect(message(() => parseAuditArgs(['--since', '1d', '--limit', '0'], NOW))).toBe('bad_input: --limit must be a whole number of at least 1, not "0".');
    expect(parseAuditArgs(['--since', '2026-12-01', '--until', '1h', '--limit', '5', '--json'], NOW)).toEqual({ since: Date.UTC(2026, 11, 1), until: NOW - HOUR, limit: 5, json: true });
  });

  it('keeps 90 days unless DAILIES_AUDIT_RETENTION_DAYS says otherwise (1 to 3650)', () => {
    expect(loadConfig({}).DAILIES_AUDIT_RETENTION_DAYS).toBe(90);
    expect(loadConfig({ DAILIES_AUDIT_RETENTION_DAYS: '365' }).DAILIES_AUDIT_RETENTION_DAYS).toBe(365);
    for (const bad of ['0', '3651', '1.5', 'forever']) {
      expect(message(() => loadConfig({ DAILIES_AUDIT_RETENTION_DAYS: bad }))).toMatch(/^bad_input: Environment: DAILIES_AUDIT_RETENTION_DAYS .*; fix the variable and restart\.$/);
    }
  });

  it('prints a table in UTC with who, where and what (the code of a refusal first)', () => {
    const table = formatTable([
      { at: Date.UTC(2026, 11, 1, 10, 0, 3), kind: 'prompt', platform: 'slack', channelId: 'C1', threadId: '17.1', sessionId: 's1', actor: { id: 'U1', name: 'Ann' }, what: '"a red ball"' },
      { at: Date.UTC(2026, 11, 1, 10, 5), kind: 'withheld', platform: 'slack', channelId: 'C1', threadId: '17.1', actor: null, what: 'v1#2: porn 0.93 ≥ 0.80' },
      { at: Date.UTC(2026, 11, 1, 11), kind: 'refusal', platform: 'discord', channelId: '42', actor: { id: '7', name: 'Bo' }, what: 'Your prompt was refused.', code: 'policy_refused' },
    ]);
    expect(table.split('\n')).toEqual([
      'time (UTC)           kind       who     where          what',
      '2026-12-01 10:00:03  prompt     Ann     slack C1/17.1  "a red ball"',
      '2026-12-01 10:05:00  withheld   system  slack C1/17.1  v1#2: porn 0.93 ≥ 0.80',
      '2026-12-01 11:00:00  refusal    Bo      discord 42     [policy_refused] Your prompt was refused.',
    ]);
  });
});

describe('dailies audit against Redis', () => {
  const prefix = `test:${randomBytes(6).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  const now = Date.now();
  const entries: AuditEntry[] = [
    { at: now - 3 * HOUR, kind: 'prompt', platform: 'local', channelId: 'c1', threadId: 't1', sessionId: 's1', actor: { id: 'u1', name: 'Ann' }, what: '"too old for --since 1h"', jobId: 'j0' },
    { at: now - 30 * 60_000, kind: 'prompt', platform: 'local', channelId: 'c1', threadId: 't2', sessionId: 's2', actor: { id: 'u1', name: 'Ann' }, what: '"a red ball"', jobId: 'j1' },
    { at: now - 20 * 60_000, kind: 'vote', platform: 'local', channelId: 'c1', threadId: 't2', sessionId: 's2', actor: { id: 'u2', name: 'Bob' }, what: 'take 2 of v1', jobId: 'j1' },
    { at: now - 10 * 60_000, kind: 'refusal', platform: 'local', channelId: 'c1', actor: { id: 'u2', name: 'Bob' }, what: 'Your prompt was refused because it mentions "gore", which this server does not allow; rephrase it without that term.', code: 'policy_refused' },
  ];
  const env = { ...process.env, REDIS_URL, DAILIES_PREFIX: prefix };
  const dailies = (...args: string[]) => run(process.execPath, ['cli/dailies.js', 'audit', ...args], { cwd: ROOT, env, timeout: 60_000 });

  beforeAll(async () => {
    const log = new RedisAuditLog({ redis, prefix });
    for (const e of entries) await log.record(e);
  });
  afterAll(async () => {
    await deleteKeysStartingWith(redis, prefix);
    await redis.quit();
  });

  it('--since 1h --json prints the entries of the last hour, one JSON object a line', async () => {
    const { stdout, stderr } = await dailies('--since', '1h', '--json');
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n').map((line) => JSON.parse(line))).toEqual(entries.slice(1));
  });

  it('prints the table, and a bad --since is one error line', async () => {
    const { stdout } = await dailies('--since', '1h', '--limit', '2');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^time \(UTC\) +kind +who +where +what$/);
    expect(lines[1]).toMatch(/ prompt +Ann +local c1\/t2 +"a red ball"$/);
    expect(lines[2]).toMatch(/ vote +Bob +local c1\/t2 +take 2 of v1$/);

    const error = (await dailies('--since', 'last week').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(1);
    expect(error.stderr.trim().split('\n')).toEqual(['error: --since must be a date (2026-12-01), a date and time (2026-12-01T10:00Z) or a time ago (24h, 7d), not "last week"; fix it and run again.']);
  });
});
