import { describe, expect, it } from 'vitest';
import { findButton } from '../../bots/local/action-match.ts';

// Messages shaped like the core's (src/core/render-message.ts): one message per take, keys with 0-based takes.
const takes = [1, 2, 3].map((n) => ({
  text: `Take ${n} of v1 · seed ${n * 11}`,
  buttons: [
    [
      { action: `vote:s1:1:${n - 1}`, label: `Vote ${n}` },
      { action: `pick:s1:1:${n - 1}`, label: 'Pick (owner)' },
      { action: `finalize:s1:j1:${n - 1}`, label: 'Finalize' },
    ],
  ],
}));
const round = { text: 'Votes for v1: take 1: 0 votes', buttons: [[{ action: 'reroll:s1', label: 'Reroll' }, { action: 'edit-prompt:s1', label: 'Edit prompt' }]] };
const messages = [{ text: 'Session', buttons: [] }, ...takes, round];
const key = (wish: Parameters<typeof findButton>[1]) => {
  const found = findButton(messages, wish);
  return found && 'button' in found ? found.button.action : found;
};

describe('findButton', () => {
  it('finds the take a person means (1-based) among 0-based keys', () => {
    expect(key({ action: 'vote', take: 1 })).toBe('vote:s1:1:0');
    expect(key({ action: 'vote', take: 3 })).toBe('vote:s1:1:2');
    expect(key({ action: 'finalize', take: 2 })).toBe('finalize:s1:j1:1');
    expect(key({ action: 'pick', take: 3 })).toBe('pick:s1:1:2');
    expect(key({ action: 'Finalize', take: 1 })).toBe('finalize:s1:j1:0');
  });

  it('takes the newest message for actions without a take', () => {
    expect(key({ action: 'reroll' })).toBe('reroll:s1');
    expect(key({ action: 'edit-prompt' })).toBe('edit-prompt:s1');
    expect(key({ action: 'vote' })).toBe('vote:s1:1:2');
  });

  it('returns null for nothing and reports ambiguity', () => {
    expect(key({ action: 'vote', take: 4 })).toBeNull();
    expect(key({ action: 'extend' })).toBeNull();
    const twice = [{ text: 'both', buttons: [[{ action: 'vote:a:1:0', label: 'Vote' }, { action: 'vote:a:1:1', label: 'Vote' }]] }];
    expect(findButton(twice, { action: 'vote' })).toMatchObject({ ambiguous: [{}, {}] });
    expect(findButton(twice, { action: 'vote', take: 2 })).toMatchObject({ button: { action: 'vote:a:1:1' } });
  });
});
