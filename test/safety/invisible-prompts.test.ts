import { describe, expect, it } from 'vitest';
import { optionalText, textOption } from '../../src/core/command-options.ts';
import { parseRefinement } from '../../src/core/refine-grammar.ts';
import { cleanText } from '../../src/core/text.ts';
import { normalizeForMatching } from '../../src/safety/matching-form.ts';

/** Issue 11, item 5: text made only of invisible characters is empty text, with the empty-text answers. */

const INVISIBLE_ONLY = [
  '\uFEFF',
  '\u200B\u200C\u200D',
  '\u2060\uFEFF \u200B',
  '\uFE0F\uFE0E',
  '\u{E0061}\u{E0062}\u{E007F}',
  '\u3164\u115F',
  '\u2800',
  '\u00AD\u202E\u2066',
];

describe('invisible characters', () => {
  it.each(INVISIBLE_ONLY.map((s) => [JSON.stringify(s), s]))('%s is an empty prompt', (_name, text) => {
    expect(cleanText(text)).toBe('');
    const prompt = textOption('prompt', 1).safeParse(text);
    expect(prompt.success).toBe(false);
    expect(prompt.error?.issues[0]?.message).toBe('prompt must be text of 1 to 1000 characters.');
    expect(parseRefinement(text)).toEqual({ ok: false, error: 'Your reply is empty; type a change to the prompt, or help to see what replies can do.' });
    expect(optionalText('negative').parse(text)).toBe('');
  });

  it('removes meaningless invisible characters instead of splitting words at them', () => {
    expect(cleanText('a forbid\uFEFFden\u200Bword')).toBe('a forbiddenword');
    expect(cleanText('  a\u00A0red\tcircle\n')).toBe('a red circle');
  });

  it('keeps the joiners and selectors that emoji and scripts need', () => {
    const family = '👨\u200D👩\u200D👧';
    const heart = '❤\uFE0F';
    const persian = 'می\u200Cخواهم';
    expect(cleanText(`${family} ${heart} ${persian}`)).toBe(`${family} ${heart} ${persian}`);
  });

  it('brings disguised text to one matching form', () => {
    expect(normalizeForMatching('F\u043eRB\u0131D\u0501EN\uFEFFw\u03bf\u0280d')).toBe('forbiddenword');
    expect(normalizeForMatching('ᴀʙᴄ ꜱᴍᴀʟʟ ᴄᴀᴘꜱ')).toBe('abc small caps');
    expect(normalizeForMatching('𝐟𝐨𝐫 ⓕⓞⓡ ｆｏｒ')).toBe('for for for');
    expect(normalizeForMatching('ø ł đ')).toBe('o l d');
    // ASCII is never remapped: the confusables table would turn "m" into "rn".
    expect(normalizeForMatching('m0del 1')).toBe('m0del 1');
  });
});
