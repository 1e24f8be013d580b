import { describe, expect, it } from 'vitest';
import { clockText, findClockTimes, replaceClockTimes } from '../../src/core/clock-text.ts';

describe('times the core writes', () => {
  const now = Date.UTC(2026, 11, 5, 2, 0);

  it('writes UTC, with the day when it is not today and the year when it is not this one', () => {
    expect(clockText(Date.UTC(2026, 11, 5, 14, 5), now)).toBe('14:05 UTC');
    expect(clockText(Date.UTC(2026, 11, 12, 9, 30), now)).toBe('12 Dec 09:30 UTC');
    expect(clockText(Date.UTC(2027, 1, 3, 9, 30), now)).toBe('3 Feb 2027 09:30 UTC');
    expect(clockText(Date.UTC(2027, 1, 3, 9, 30))).toBe('09:30 UTC');
  });

  it('reads back every form it writes, a time alone as the next one from the moment of writing', () => {
    for (const at of [Date.UTC(2026, 11, 5, 14, 5), Date.UTC(2026, 11, 12, 9, 30), Date.UTC(2027, 1, 3, 9, 30), Date.UTC(2026, 11, 6, 0, 20)]) {
      const text = `Voting closes at ${clockText(at, now)}.`;
      const [time] = findClockTimes(text, now);
      expect(time).toMatchObject({ at, start: 'Voting closes at '.length, end: text.length - 1 });
    }
    // Written at 23:50 with a 30-minute window: 00:20 is tomorrow's.
    const lateEvening = Date.UTC(2026, 11, 5, 23, 50);
    expect(findClockTimes('closes at 00:20 UTC', lateEvening)[0]).toMatchObject({ at: Date.UTC(2026, 11, 6, 0, 20), dated: false });
    // A deadline that passed while the message was on its way is still today's.
    expect(findClockTimes('closes at 23:49 UTC', lateEvening)[0]!.at).toBe(Date.UTC(2026, 11, 5, 23, 49));
  });

  it('leaves text that only looks like a time alone', () => {
    expect(findClockTimes('take 12:30 of v2, 14:05 UTCx, 25:99 UTC', now)).toEqual([]);
  });

  it('replaces each time with what a surface shows', () => {
    const text = `Blocked until ${clockText(Date.UTC(2026, 11, 12, 9, 30), now)}; votes close at 14:05 UTC.`;
    expect(replaceClockTimes(text, now, (t, written) => `<${t.at / 1000}${t.dated ? ' dated' : ''}|${written}>`)).toBe(
      `Blocked until <${Date.UTC(2026, 11, 12, 9, 30) / 1000} dated|12 Dec 09:30 UTC>; votes close at <${Date.UTC(2026, 11, 5, 14, 5) / 1000}|14:05 UTC>.`,
    );
  });
});
