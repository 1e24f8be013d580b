import { describe, expect, it } from 'vitest';
import { revisePrompt } from '../../src/core/prompt-revision.ts';

describe('prompt revision', () => {
  it.each([
    ['a red ball bouncing, on a white background', 'on a blue background', 'a red ball bouncing, on a blue background', "background 'on a white background' -> 'on a blue background'"],
    ['a red ball bouncing on a white background', 'against a black backdrop', 'a red ball bouncing against a black backdrop', "background 'on a white background' -> 'against a black backdrop'"],
    ['a cat moving right', 'moving left', 'a cat moving left', "motion 'moving right' -> 'moving left'"],
    ['a cat moving to the right on a white background', 'spinning slowly', 'a cat spinning slowly on a white background', "motion 'moving to the right' -> 'spinning slowly'"],
    ['a red ball bouncing', 'blue ball', 'a blue ball bouncing', "'red ball' -> 'blue ball'"],
    ['a dark red ball', 'the light green ball', 'a light green ball', "'dark red ball' -> 'light green ball'"],
    ['a ball bouncing', 'orange ball', 'an orange ball bouncing', "'ball' -> 'orange ball'"],
    ['An orange ball', 'red ball', 'A red ball', "'orange ball' -> 'red ball'"],
    ['a red sports car', 'blue sports car', 'a blue sports car', "'red sports car' -> 'blue sports car'"],
    ['a red ball in watercolor style', 'in pixel art style', 'a red ball in pixel art style', "style 'in watercolor style' -> 'in pixel art style'"],
    ['a red ball, in the style of Monet', 'in the style of Hokusai', 'a red ball, in the style of Hokusai', "style 'in the style of Monet' -> 'in the style of Hokusai'"],
    ['a red ball', 'at night', 'a red ball, at night', "added 'at night'"],
    ['a red ball', 'on a blue background', 'a red ball, on a blue background', "added 'on a blue background'"],
    ['a red ball,', 'glowing', 'a red ball, glowing', "added 'glowing'"],
    ['a cat', 'blue ball', 'a cat, blue ball', "added 'blue ball'"],
    ['a movement of red', 'moving left', 'a movement of red, moving left', "added 'moving left'"],
    ['un chat rouge', 'chat bleu', 'un chat rouge, chat bleu', "added 'chat bleu'"],
    ['a red BALL', 'Blue ball', 'a Blue BALL', "'red BALL' -> 'Blue BALL'"],
  ])('%j + %j', (prompt, text, expected, change) => {
    expect(revisePrompt(prompt, text)).toEqual({ prompt: expected, changes: [change] });
  });

  it('applies each comma-separated clause in turn', () => {
    expect(revisePrompt('a red ball moving right, on a white background', 'blue ball, on a green background; moving up, at dusk')).toEqual({
      prompt: 'a blue ball moving up, on a green background, at dusk',
      changes: ["'red ball' -> 'blue ball'", "background 'on a white background' -> 'on a green background'", "motion 'moving right' -> 'moving up'", "added 'at dusk'"],
    });
  });

  it('ignores empty clauses', () => {
    expect(revisePrompt('a ball', ', ,; at night,')).toEqual({ prompt: 'a ball, at night', changes: ["added 'at night'"] });
  });

  it('quotes long clauses shortened in the change text', () => {
    const long = 'with a very long description of something that keeps going and going';
    const r = revisePrompt('a ball', long);
    expect(r.prompt).toBe(`a ball, ${long}`);
    expect(r.changes[0]).toMatch(/^added '.{1,39}…'$/);
  });
});
