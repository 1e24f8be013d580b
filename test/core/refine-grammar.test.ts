import { describe, expect, it } from 'vitest';
import { MAX_SEED, parseRefinement } from '../../src/core/refine-grammar.ts';

function edit(text: string) {
  const r = parseRefinement(text);
  if (!r.ok) throw new Error(`expected an edit for ${JSON.stringify(text)}, got: ${r.error}`);
  return r.edit;
}

function error(text: string, limits = {}) {
  const r = parseRefinement(text, limits);
  if (r.ok) throw new Error(`expected an error for ${JSON.stringify(text)}, got ${JSON.stringify(r.edit)}`);
  return r.error;
}

describe('refinement grammar', () => {
  it.each([
    ['help', { kind: 'help' }],
    ['HELP!', { kind: 'help' }],
    ['?', { kind: 'help' }],
    ['again', { kind: 'reroll' }],
    ['Again.', { kind: 'reroll' }],
    ['re-roll', { kind: 'reroll' }],
    ['reroll', { kind: 'reroll' }],
    ['seed: random', { kind: 'reroll' }],
    ['seed: 12', { kind: 'seed', seed: 12 }],
    ['SEED:0', { kind: 'seed', seed: 0 }],
    [`seed: ${MAX_SEED}`, { kind: 'seed', seed: MAX_SEED }],
    ['takes: 3', { kind: 'takes', takes: 3 }],
    ['prompt: a dog on a beach', { kind: 'replace', prompt: 'a dog on a beach' }],
    ['Prompt:   a   dog  ', { kind: 'replace', prompt: 'a dog' }],
    ['negative: blurry, text', { kind: 'negative', negativePrompt: 'blurry, text' }],
    ['negative:', { kind: 'negative', negativePrompt: '' }],
    ['negative: none', { kind: 'negative', negativePrompt: '' }],
    ['negative: -', { kind: 'negative', negativePrompt: '' }],
    ['on a blue background', { kind: 'revise', text: 'on a blue background' }],
    ['  moving\tleft \n', { kind: 'revise', text: 'moving left' }],
    ['from v2: on a red background', { kind: 'branch', from: 2, then: { kind: 'revise', text: 'on a red background' } }],
    ['from v1: prompt: a cat', { kind: 'branch', from: 1, then: { kind: 'replace', prompt: 'a cat' } }],
    ['FROM V3: again', { kind: 'branch', from: 3, then: { kind: 'reroll' } }],
    ['from v2: seed: 5', { kind: 'branch', from: 2, then: { kind: 'seed', seed: 5 } }],
    ['from v2:', { kind: 'branch', from: 2, then: null }],
    ['from 4', { kind: 'branch', from: 4, then: null }],
    ['a cat: sitting', { kind: 'revise', text: 'a cat: sitting' }],
    ['un chat sur fond bleu 🐱', { kind: 'revise', text: 'un chat sur fond bleu 🐱' }],
    ['青い背景', { kind: 'revise', text: '青い背景' }],
    ['e\u0301clair', { kind: 'revise', text: 'éclair' }],
  ])('%j', (text, expected) => {
    expect(edit(text)).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    ['   \n\t ', /empty/],
    ['seed: -1', /seed: must be a whole number from 0 to 2147483647/],
    ['seed: 2147483648', /from 0 to 2147483647/],
    ['seed: 1.5', /whole number/],
    ['seed: twelve', /whole number/],
    ['takes: 0', /takes: must be a whole number from 1 to 4/],
    ['takes: 5', /from 1 to 4/],
    ['prompt:', /needs the new prompt/],
    ['from v0: again', /start at v1/],
    ['from v2: help', /must be followed by/],
    ['from v2: takes: 2', /must be followed by/],
    ['steps: 30', /"steps:" is not a reply command/],
    ['https://example.com/x', /"https:" is not a reply command/],
    ['bad \uD83D text', /broken characters/],
    ['\uDC00', /broken characters/],
  ])('%j is refused', (text, pattern) => {
    const message = error(text);
    expect(message).toMatch(pattern);
    expect(message.trim().split(/(?<=[.!?])\s+(?=[A-Z])/)).toHaveLength(1);
  });

  it('limits replies to 1000 characters, counting emoji as one', () => {
    expect(edit('x'.repeat(1000))).toEqual({ kind: 'revise', text: 'x'.repeat(1000) });
    expect(error('x'.repeat(1001))).toBe('Your reply is 1001 characters long; keep it to 1000 or fewer.');
    expect(edit('🎬'.repeat(1000)).kind).toBe('revise');
    expect(error('🎬'.repeat(1001))).toMatch(/1001 characters/);
    expect(error('x'.repeat(100_000))).toMatch(/100000 characters/);
  });

  it('honours a smaller takes limit', () => {
    expect(error('takes: 3', { maxTakes: 2 })).toMatch(/from 1 to 2/);
  });

  it('refuses non-text input without throwing', () => {
    expect(parseRefinement(42 as unknown as string)).toMatchObject({ ok: false });
    expect(parseRefinement(undefined as unknown as string)).toMatchObject({ ok: false });
  });
});
