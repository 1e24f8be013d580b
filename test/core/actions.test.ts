import { describe, expect, it } from 'vitest';
import { MAX_ACTION_LENGTH, actionKey, parseAction, type ParsedAction } from '../../src/core/actions.ts';

describe('action keys', () => {
  const samples: ParsedAction[] = [
    { type: 'vote', sessionId: 's3k9', roundId: 2, take: 1 },
    { type: 'pick', sessionId: 's3k9', roundId: 12, take: 0 },
    { type: 'finalize', sessionId: 's3k9', jobId: 'jab12', take: 3 },
    { type: 'vary', sessionId: 's3k9', jobId: 'jab12', take: 0 },
    { type: 'extend', sessionId: 's3k9', jobId: 'jab12', take: 2 },
    { type: 'cancel', jobId: 'jab12' },
    { type: 'reroll', sessionId: 's3k9' },
    { type: 'edit-prompt', sessionId: 's3k9' },
    { type: 'edit-prompt-submit', sessionId: 's3k9' },
  ];

  it.each(samples)('round-trips %j', (action) => {
    const key = actionKey(action);
    expect(key.length).toBeLessThanOrEqual(MAX_ACTION_LENGTH);
    expect(parseAction(key)).toEqual(action);
  });

  it('uses the documented shapes', () => {
    expect(actionKey({ type: 'vote', sessionId: 's1', roundId: 1, take: 0 })).toBe('vote:s1:1:0');
    expect(actionKey({ type: 'finalize', sessionId: 's1', jobId: 'j1', take: 1 })).toBe('finalize:s1:j1:1');
    expect(actionKey({ type: 'cancel', jobId: 'j1' })).toBe('cancel:j1');
  });

  it('fits real ids within Discord’s 100 characters', () => {
    expect(actionKey({ type: 'finalize', sessionId: 's' + 'x'.repeat(10), jobId: 'j' + 'y'.repeat(12), take: 3 }).length).toBeLessThan(40);
    expect(() => actionKey({ type: 'finalize', sessionId: 'x'.repeat(60), jobId: 'y'.repeat(60), take: 1 })).toThrow(/over 100 characters/);
  });

  it.each(['', 'vote', 'vote:s1', 'vote:s1:1', 'vote:s1:x:0', 'vote:s1:1:0:extra', 'cancel:', 'cancel:j1:2', 'unknown:s1', 'reroll:s1:2', 'vote:s 1:1:0', 'vote:s1:1:-1', 'finalize:s1:j1:1e3', 'x'.repeat(101), 'edit-prompt:'])('rejects %j', (key) => {
    expect(parseAction(key)).toBeNull();
  });

  it('rejects non-strings without throwing', () => {
    expect(parseAction(undefined as unknown as string)).toBeNull();
    expect(parseAction({} as unknown as string)).toBeNull();
  });
});
