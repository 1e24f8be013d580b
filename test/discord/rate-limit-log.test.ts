import { describe, expect, it } from 'vitest';
import { RateLimitLog } from '../../bots/discord/rate-limit-log.ts';

describe('RateLimitLog', () => {
  it('logs the first event of a window per route and counts the ones it folds in', () => {
    let now = 0;
    const log = new RateLimitLog(1000, () => now);
    expect(log.admit('/channels/:id/messages')).toBe(0);
    expect(log.admit('/channels/:id/messages')).toBeNull();
    expect(log.admit('/channels/:id/messages')).toBeNull();
    // Another route has its own window.
    expect(log.admit('global')).toBe(0);
    now = 1000;
    expect(log.admit('/channels/:id/messages')).toBe(2);
    expect(log.admit('/channels/:id/messages')).toBeNull();
    now = 5000;
    expect(log.admit('/channels/:id/messages')).toBe(1);
    expect(log.admit('global')).toBe(0);
  });
});
