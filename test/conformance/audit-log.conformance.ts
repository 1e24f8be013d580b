import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditLog } from '../../src/core/ports/audit-log.ts';

/**
 * One behaviour suite for every AuditLog. A backend passes a factory that builds a fresh, empty
 * log reading time from `now()` and dropping entries older than `retentionMs`.
 */
export interface AuditLogFixture {
  log: AuditLog;
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;

export function runAuditLogConformance(name: string, factory: (now: () => number, retentionMs: number) => Promise<AuditLogFixture>): void {
  describe(`AuditLog conformance: ${name}`, () => {
    const start = Date.UTC(2026, 11, 1, 10);
    let time = start;
    let fixture: AuditLogFixture | null = null;

    async function open(retentionMs = 24 * HOUR): Promise<AuditLog> {
      fixture = await factory(() => time, retentionMs);
      return fixture.log;
    }

    beforeEach(() => {
      time = start;
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = null;
    });

    function entry(at: number, what: string, extra: Partial<AuditEntry> = {}): AuditEntry {
      return { at, kind: 'prompt', platform: 'local', channelId: 'c1', threadId: 't1', sessionId: 's1', actor: { id: 'u1', name: 'Ann' }, what, ...extra };
    }

    it('records entries and lists them oldest first, as recorded', async () => {
      const log = await open();
      const first = entry(start - 3000, 'a red ball');
      const second = entry(start - 2000, 'take 2 of v1', { kind: 'vote', jobId: 'j1' });
      const third: AuditEntry = { at: start - 1000, kind: 'withheld', platform: 'discord', channelId: 'c2', actor: null, what: 'v1#2: porn 0.93 ≥ 0.80' };
      const fourth = entry(start - 1000, 'Your prompt was refused; rephrase it.', { kind: 'refusal', code: 'policy_refused' });
      for (const e of [first, second, third, fourth]) await log.record(e);
      expect(await log.list({ since: 0 })).toEqual([first, second, third, fourth]);
    });

    it('lists what is in [since, until) and at most limit entries', async () => {
      const log = await open();
      for (let i = 0; i < 10; i++) await log.record(entry(start - 10_000 + i * 1000, `e${i}`));
      const whats = (list: AuditEntry[]) => list.map((e) => e.what);
      expect(whats(await log.list({ since: start - 7000 }))).toEqual(['e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
      expect(whats(await log.list({ since: start - 7000, until: start - 4000 }))).toEqual(['e3', 'e4', 'e5']);
      expect(whats(await log.list({ since: 0, limit: 2 }))).toEqual(['e0', 'e1']);
      expect(whats(await log.list({ since: start - 5000, until: start, limit: 3 }))).toEqual(['e5', 'e6', 'e7']);
      expect(await log.list({ since: start })).toEqual([]);
      expect(await log.list({ since: 0, limit: 0 })).toEqual([]);
    });

    it('accepts an entry that arrives behind a later one, and lists it in time order', async () => {
      const log = await open();
      await log.record(entry(start - 1000, 'later'));
      await log.record(entry(start - 1005, 'earlier, a few ms behind'));
      await log.record(entry(start - 1000, 'same ms'));
      expect((await log.list({ since: 0 })).map((e) => [e.at, e.what])).toEqual([
        [start - 1005, 'earlier, a few ms behind'],
        [start - 1000, 'later'],
        [start - 1000, 'same ms'],
      ]);
      expect((await log.list({ since: start - 1002 })).map((e) => e.what)).toEqual(['later', 'same ms']);
      expect((await log.list({ since: 0, until: start - 1000 })).map((e) => e.what)).toEqual(['earlier, a few ms behind']);
    });

    it('drops entries older than the retention window', async () => {
      const log = await open(HOUR);
      await log.record(entry(start - 3 * HOUR, 'long gone'));
      await log.record(entry(start - 2 * HOUR, 'gone'));
      await log.record(entry(start - 30 * 60_000, 'kept'));
      expect((await log.list({ since: 0 })).map((e) => e.what)).toEqual(['kept']);
      // Time passes: what was inside the window falls out of it, with no sweep.
      time = start + 45 * 60_000;
      await log.record(entry(time, 'new'));
      expect((await log.list({ since: 0 })).map((e) => e.what)).toEqual(['new']);
    });

    it('keeps every entry of concurrent records', async () => {
      const log = await open();
      await Promise.all(Array.from({ length: 25 }, (_, i) => log.record(entry(start - 100 + (i % 5), `e${i}`, { actor: { id: `u${i}`, name: `P${i}` } }))));
      const listed = await log.list({ since: 0 });
      expect(listed).toHaveLength(25);
      expect(new Set(listed.map((e) => e.what)).size).toBe(25);
      expect(listed.map((e) => e.at)).toEqual([...listed.map((e) => e.at)].sort((a, b) => a - b));
    });

    it('keeps what it stored apart from the caller’s objects', async () => {
      const log = await open();
      const e = entry(start - 1000, 'a red ball');
      await log.record(e);
      e.what = 'changed afterwards';
      const [listed] = await log.list({ since: 0 });
      expect(listed!.what).toBe('a red ball');
      listed!.what = 'changed by a reader';
      expect((await log.list({ since: 0 }))[0]!.what).toBe('a red ball');
    });
  });
}
