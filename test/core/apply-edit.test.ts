import { describe, expect, it } from 'vitest';
import { deriveVersion } from '../../src/core/apply-edit.ts';
import type { Session } from '../../src/core/session.ts';
import { appendVersion, createSession } from '../../src/core/session-state.ts';

const ann = { id: 'a', name: 'Ann' };
const opts = { author: ann, newSeed: () => 99 };

function session(): Session {
  let s = createSession({ id: 's', thread: { platform: 'local', channelId: 'c', threadId: 't' }, owner: ann, first: { prompt: 'a red ball bouncing', negativePrompt: 'blurry', seed: 7, author: ann, change: 'first version' }, settings: { takes: 2 } }, 0);
  s = appendVersion(s, { prompt: 'a red ball bouncing, on a white background', negativePrompt: 'blurry', seed: 7, parent: 1, author: ann, change: "added 'on a white background'" }, 1).session;
  return s;
}

describe('deriving the next version', () => {
  it('revises the current version', () => {
    expect(deriveVersion(session(), { kind: 'revise', text: 'on a blue background' }, opts)).toEqual({
      prompt: 'a red ball bouncing, on a blue background',
      negativePrompt: 'blurry',
      seed: 7,
      parent: 2,
      author: ann,
      change: "background 'on a white background' -> 'on a blue background'",
    });
  });

  it('describes seed, reroll, negative and replace changes', () => {
    expect(deriveVersion(session(), { kind: 'seed', seed: 12 }, opts)).toMatchObject({ seed: 12, change: 'seed 7 -> 12' });
    expect(deriveVersion(session(), { kind: 'reroll' }, opts)).toMatchObject({ seed: 99, change: 'seed 7 -> 99 (again)' });
    expect(deriveVersion(session(), { kind: 'negative', negativePrompt: '' }, opts)).toMatchObject({ negativePrompt: '', change: "cleared negative 'blurry'" });
    expect(deriveVersion(session(), { kind: 'negative', negativePrompt: 'text' }, opts)).toMatchObject({ change: "negative 'blurry' -> 'text'" });
    expect(deriveVersion(session(), { kind: 'replace', prompt: 'a dog' }, opts)).toMatchObject({ prompt: 'a dog', change: "prompt 'a red ball bouncing, on a white backgro…' -> 'a dog'" });
  });

  it('branches from an older version', () => {
    expect(deriveVersion(session(), { kind: 'branch', from: 1, then: { kind: 'revise', text: 'blue ball' } }, opts)).toMatchObject({ prompt: 'a blue ball bouncing', parent: 1, change: "from v1; 'red ball' -> 'blue ball'" });
    expect(deriveVersion(session(), { kind: 'branch', from: 1, then: null }, opts)).toMatchObject({ prompt: 'a red ball bouncing', parent: 1, change: 'branched from v1' });
    expect(() => deriveVersion(session(), { kind: 'branch', from: 9, then: null }, opts)).toThrow(/no v9 in this session; pick one of v1–v2/);
  });

  it('starts from the winning take when a vote picked one', () => {
    const s = { ...session(), base: { jobId: 'j', version: 1, take: 1, seed: 8, roundId: 1 } };
    expect(deriveVersion(s, { kind: 'revise', text: 'at night' }, opts)).toMatchObject({ prompt: 'a red ball bouncing, at night', seed: 8, parent: 1, change: "take 2 of v1 (seed 7 -> 8); added 'at night'" });
  });

  it('refuses edits that change nothing and prompts over the limit', () => {
    expect(() => deriveVersion(session(), { kind: 'seed', seed: 7 }, opts)).toThrow('The seed is already 7; pick another number or reply again.');
    expect(() => deriveVersion(session(), { kind: 'replace', prompt: 'a red ball bouncing, on a white background' }, opts)).toThrow(/already the prompt/);
    expect(() => deriveVersion(session(), { kind: 'negative', negativePrompt: 'blurry' }, opts)).toThrow(/already the negative prompt/);
    expect(() => deriveVersion(session(), { kind: 'form', prompt: 'a red ball bouncing, on a white background' }, opts)).toThrow(/Nothing changed/);
    expect(() => deriveVersion(session(), { kind: 'revise', text: 'x'.repeat(990) }, opts)).toThrow(/would be 1034 characters, over the 1000 limit/);
  });

  it('applies several fields from a form', () => {
    expect(deriveVersion(session(), { kind: 'form', prompt: 'a dog', negativePrompt: 'cats', seed: 3 }, opts)).toMatchObject({ prompt: 'a dog', negativePrompt: 'cats', seed: 3 });
  });
});
