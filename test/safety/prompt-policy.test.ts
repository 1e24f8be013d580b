import { describe, expect, it } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import { createPromptPolicy, normalizeForMatching, refusalMessage } from '../../src/safety/prompt-policy.ts';
import { loadPolicyConfig, parseTermList } from '../../src/safety/policy-config.ts';

const policy = createPromptPolicy({ blockedTerms: ['gore', 'blood', 'Naked Person', 'straße'] });

describe('prompt policy', () => {
  it.each([
    ['a scene full of gore', 'gore'],
    ['GORE!', 'gore'],
    ['Gore, at night', 'gore'],
    ['g0re', 'gore'],
    ['g0r3', 'gore'],
    ['ｇｏｒｅ in fullwidth', 'gore'],
    ['gö\u0308re', 'gore'],
    ['go\u200bre with a zero-width space', 'gore'],
    ['g\u00f6re', 'gore'],
    ['b100d everywhere', 'blood'],
    ['6l00d', null],
    ['a naked   person', 'Naked Person'],
    ['a naked-person', 'Naked Person'],
    ['n4ked p3rson', 'Naked Person'],
    ['STRASSE', 'straße'],
    ['the gorey details', null],
    ['an allegory', null],
    ['bloodhound', null],
    ['gore1', null],
    ['a red ball', null],
    ['', null],
  ])('%j -> %s', (text, term) => {
    const verdict = policy.check(text);
    if (term === null) expect(verdict).toEqual({ allowed: true });
    else expect(verdict).toEqual({ allowed: false, term, message: refusalMessage(term) });
  });

  it('refuses with one specific sentence', () => {
    expect(refusalMessage('gore')).toBe('Your prompt was refused because it mentions "gore", which this server does not allow; rephrase it without that term.');
    try {
      policy.assertAllowed('so much blood');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DailiesError);
      expect((e as DailiesError).code).toBe('policy_refused');
      expect((e as DailiesError).message).toBe(refusalMessage('blood'));
    }
    expect(() => policy.assertAllowed('a calm lake')).not.toThrow();
  });

  it('treats regex characters in terms literally', () => {
    const p = createPromptPolicy({ blockedTerms: ['c++', 'a.b'] });
    expect(p.check('I like c++ a lot').allowed).toBe(false);
    expect(p.check('axb').allowed).toBe(true);
    expect(p.check('a.b').allowed).toBe(false);
  });

  it('normalises text the same way for terms and prompts', () => {
    expect(normalizeForMatching('Ｃａｆé\u200d')).toBe('cafe');
  });
});

describe('policy configuration', () => {
  it('merges the environment list and the file, dropping comments and duplicates', () => {
    const config = loadPolicyConfig({ DAILIES_BLOCKED_TERMS: 'gore, blood\nGore', DAILIES_BLOCKED_TERMS_FILE: '/etc/terms' }, (path) => {
      expect(path).toBe('/etc/terms');
      return '# one per line\nviolence\n\nblood  # again\n';
    });
    expect(config.blockedTerms).toEqual(['gore', 'blood', 'Gore', 'violence']);
  });

  it('is empty without configuration and explains an unreadable file', () => {
    expect(loadPolicyConfig({})).toEqual({ blockedTerms: [] });
    expect(() =>
      loadPolicyConfig({ DAILIES_BLOCKED_TERMS_FILE: '/missing' }, () => {
        throw new Error('ENOENT');
      }),
    ).toThrow('DAILIES_BLOCKED_TERMS_FILE points at /missing, which cannot be read; fix the path or unset it.');
    expect(parseTermList(' a ,, b # c ')).toEqual(['a', 'b']);
  });
});
