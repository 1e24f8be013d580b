import { describe, expect, it } from 'vitest';
import { MAX_SEED, parseRefinement } from '../../src/core/refine-grammar.ts';
import { revisePrompt } from '../../src/core/prompt-revision.ts';
import type { PromptVocabulary } from '../../src/core/prompt-vocabulary.ts';

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

// A plain-text reply is matched in the words of the session's model (its prompt vocabulary);
// each case also shows what the built-in words make of it, so it fails if the vocabulary is ignored.
describe('refinement grammar in a model\'s words', () => {
  const SHAPES: PromptVocabulary = {
    colours: ['red', 'orange', 'black', 'vermilion'],
    motions: ['moving', 'growing', 'shrinking', 'still', 'is still'],
    directions: ['left', 'right', 'up', 'down', 'to the left'],
  };

  function reply(prompt: string, text: string, vocabulary?: PromptVocabulary) {
    const parsed = edit(text);
    if (parsed.kind !== 'revise') throw new Error(`expected a revision for ${JSON.stringify(text)}, got ${JSON.stringify(parsed)}`);
    return revisePrompt(prompt, parsed.text, vocabulary);
  }

  it.each([
    ['a red circle growing on a black background', 'moving up', 'a red circle moving up on a black background', "motion 'growing' -> 'moving up'", 'a red circle growing on a black background, moving up'],
    ['a red circle is still, black background', 'shrinking', 'a red circle shrinking, black background', "motion 'is still' -> 'shrinking'", 'a red circle is still, black background, shrinking'],
    ['a red circle moving up', 'still', 'a red circle still', "motion 'moving up' -> 'still'", 'a red circle moving up, still'],
    ['a vermilion circle moving left', 'orange circle', 'an orange circle moving left', "'vermilion circle' -> 'orange circle'", 'a vermilion orange circle moving left'],
  ])('%j + %j', (prompt, text, expected, change, withBuiltInWords) => {
    expect(reply(prompt, text, SHAPES)).toEqual({ prompt: expected, changes: [change] });
    expect(reply(prompt, text).prompt).toBe(withBuiltInWords);
  });

  it('takes directions and background nouns from the model', () => {
    const river: PromptVocabulary = { directions: ['upstream', 'downstream'], backgrounds: ['sky'] };
    expect(reply('a fish swimming upstream slowly', 'swimming downstream', river).prompt).toBe('a fish swimming downstream slowly');
    expect(reply('a fish swimming upstream slowly', 'swimming downstream').prompt).toBe('a fish swimming downstream upstream slowly');
    expect(reply('a kite flying in a grey sky', 'under a stormy sky', river)).toEqual({ prompt: 'a kite flying under a stormy sky', changes: ["background 'in a grey sky' -> 'under a stormy sky'"] });
    expect(reply('a kite flying in a grey sky', 'under a stormy sky').prompt).toBe('a kite flying in a grey sky, under a stormy sky');
  });

  it('replaces the built-in words of a class the model declares, and keeps them for classes it leaves out', () => {
    // "blue" is no colour of this model, so "blue circle" is a new clause, not a recolouring.
    expect(reply('a red circle moving left', 'blue circle', SHAPES).prompt).toBe('a red circle moving left, blue circle');
    expect(reply('a red ball on a white backdrop', 'against a black backdrop', SHAPES).prompt).toBe('a red ball against a black backdrop');
    // No vocabulary at all (a model that declares none, or no catalog): the built-in words.
    expect(reply('a cat spinning slowly', 'moving left', undefined).prompt).toBe('a cat moving left');
    expect(revisePrompt('a cat spinning slowly', 'moving left', null).prompt).toBe('a cat moving left');
    expect(revisePrompt('a cat spinning slowly', 'moving left', {}).prompt).toBe('a cat moving left');
  });
});
