import { describe, expect, it } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import { cleanText } from '../../src/core/text.ts';
import { createPromptPolicy, negativeRefusalMessage, refusalMessage } from '../../src/safety/prompt-policy.ts';
import { loadPolicyConfig } from '../../src/safety/policy-config.ts';

/** Issue 11, item 5: ways around a block list that used to pass, and what must stay allowed. */

const policy = createPromptPolicy(loadPolicyConfig({ DAILIES_BLOCKED_TERMS: 'forbiddenword' }));
const refused = (text: string) => policy.check(text).allowed === false;

// Cyrillic о е і ԁ, Greek ο, dotless ı, small capital ʀ.
const HOMOGLYPHS = {
  cyrillicO: 'f\u043erbiddenw\u043erd',
  cyrillicE: 'forbidd\u0435nword',
  cyrillicI: 'forb\u0456ddenword',
  cyrillicD: 'forbi\u0501\u0501enwor\u0501',
  greekO: 'f\u03bfrbiddenw\u03bfrd',
  dotlessI: 'forb\u0131ddenword',
  smallCapitalR: 'fo\u0280biddenwo\u0280d',
};

describe('prompt policy: disguised terms are refused', () => {
  it.each([
    ['U+FEFF inside the word', 'forbidden\uFEFFword'],
    ['U+FEFF after the options cleaned the text', cleanText('a forbidden\uFEFFword here')],
    ['zero-width space, joiner, non-joiner', 'forb\u200Bid\u200Dden\u200Cword'],
    ['word joiner and variation selector', 'forbid\u2060den\uFE0Fword'],
    ['tag characters', 'forbidden\u{E0061}\u{E0062}word'],
    ...Object.entries(HOMOGLYPHS).map(([name, text]) => [`homoglyph ${name}`, text] as [string, string]),
    ['spaces between letters', 'f o r b i d d e n w o r d'],
    ['hyphens between letters', 'f-o-r-b-i-d-d-e-n-w-o-r-d'],
    ['dots between letters', 'f.o.r.b.i.d.d.e.n.w.o.r.d'],
    ['underscores between letters', 'f_o_r_b_i_d_d_e_n_w_o_r_d'],
    ['emoji between letters', 'f😀o😀r😀b😀i😀d😀d😀e😀n😀w😀o😀r😀d'],
    ['a newline between the parts', 'a forbidden\nword in it'],
    ['a newline, cleaned to a space', cleanText('forbidden\nword')],
    ['an emoji word between the parts', 'forbidden 🙂 word'],
    ['a doubled letter', 'forrbiddenword'],
    ['a tripled letter', 'fooorbiddenword'],
    ['a tripled letter in two words', 'fooorbidden word'],
    ['a plural s', 'two forbiddenwords'],
    ['a plural es', 'forbiddenwordes'],
    ['homoglyphs and separators together', 'f-\u043e-r-b-\u0456-d-d-\u0435-n w\u03bfrd'],
    ['fullwidth letters', 'ｆｏｒｂｉｄｄｅｎｗｏｒｄ'],
  ])('%s', (_name, text) => {
    expect(policy.check(text)).toEqual({ allowed: false, term: 'forbiddenword', message: refusalMessage('forbiddenword') });
  });

  it('refuses the negative prompt with its own sentence', () => {
    expect(() => policy.assertAllowed('a calm lake', 'no f o r b i d d e n w o r d')).toThrow(negativeRefusalMessage('forbiddenword'));
    try {
      policy.assertAllowed('a calm lake', 'forbidden\uFEFFword');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DailiesError);
      expect((e as DailiesError).code).toBe('policy_refused');
      expect((e as DailiesError).message).toBe('Your negative prompt was refused because it mentions "forbiddenword", which this server does not allow; rephrase it without that term.');
    }
    expect(() => policy.assertAllowed('a calm lake', 'blurry, low quality')).not.toThrow();
    expect(() => policy.assertAllowed('a calm lake', '')).not.toThrow();
  });

  it('refuses spelled-out and stretched short terms too', () => {
    const short = createPromptPolicy({ blockedTerms: ['gore', 'ass', 'nude'] });
    for (const text of ['g o r e', 'g.0.r.e', 'gooore', 'a s s', 'a.s.s', 'asses', 'a$$', 'n u d e s', 'ɴᴜᴅᴇ']) {
      expect(short.check(text).allowed, text).toBe(false);
    }
  });
});

describe('prompt policy: ordinary prompts stay allowed', () => {
  const realistic = createPromptPolicy(loadPolicyConfig({ DAILIES_BLOCKED_TERMS: 'gore,nude,porn' }));
  const broad = createPromptPolicy({ blockedTerms: ['gore', 'nude', 'porn', 'ass', 'butt', 'boob', 'anal', 'penis', 'rape', 'naked person', 'bloodbath'] });

  it('allows the example prompt with a realistic list', () => {
    expect(realistic.check('a red circle moving right')).toEqual({ allowed: true });
    expect(realistic.check('a red circle moving left on a black background')).toEqual({ allowed: true });
  });

  it.each([
    'a red circle moving right',
    'an allegory of the sea',
    'the gorey details',
    'a glass of water',
    'as big as a house',
    'but why is the sky blue',
    'Bob the builder',
    'an al fresco lunch',
    'a pen is on the table',
    'a therapist listens',
    'grapes on a plate',
    'a bass guitar',
    'a classroom full of glasses',
    'the embassy at night',
    'a nuder shade of beige',
    '455 horses',
    '8008 on a calculator',
    'a boat, in 4 seconds',
    'naked trees, a person walking',
    'blood on the moon, a bath',
    'кошка на крыше',
    '猫が屋根の上を歩く',
  ])('%j', (text) => {
    expect(broad.check(text)).toEqual({ allowed: true });
  });

  it('keeps parts of words and digits after a word from matching', () => {
    expect(refused('forbiddenwordsmith')).toBe(false);
    expect(refused('unforbiddenword')).toBe(false);
    expect(refused('forbiddenword1')).toBe(false);
    expect(refused('forbidden words')).toBe(true);
  });

  it('finds a spelled-out term inside a long prompt, and nothing in one without it', () => {
    const filler = 'a b c d e f g h i j k l m n o p q r s t u v w x y z '.repeat(18);
    expect(refused(filler)).toBe(false);
    expect(refused(`${filler}f o r b i d d e n w o r d`)).toBe(true);
  });
});
