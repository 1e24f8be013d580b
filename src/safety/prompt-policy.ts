import { DailiesError } from '../errors.ts';

/**
 * Prompt policy: a server-configured block list matched on whole words after normalising both
 * sides the same way, so "ＧＯＲＥ", "Gore", "g0re", "gö​re" (accent, zero-width space) all hit
 * a listed "gore" while "gorey" or "allegory" do not. Only the positive prompt is checked: the
 * negative prompt exists to steer away from such things.
 */

export type PolicyVerdict = { allowed: true } | { allowed: false; term: string; message: string };

export interface PromptPolicy {
  check(text: string): PolicyVerdict;
  /** Throws DailiesError('policy_refused') with the refusal sentence. */
  assertAllowed(text: string): void;
}

/** Common look-alike substitutions; each letter of a term also matches these. */
const LEET: Record<string, string> = {
  a: 'a4@',
  b: 'b8',
  e: 'e3€',
  g: 'g9',
  i: 'i1!|',
  l: 'l1|',
  o: 'o0',
  s: 's5$',
  t: 't7+',
  z: 'z2',
};

/** NFKC, case-folded, accents and invisible format characters removed. */
export function normalizeForMatching(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/ß/gu, 'ss')
    .replace(/ς/gu, 'σ')
    .normalize('NFD')
    .replace(/[\p{Mn}\p{Cf}]/gu, '')
    .normalize('NFC');
}

function escapeChar(c: string): string {
  return /[.*+?^${}()|[\]\\/-]/u.test(c) ? `\\${c}` : c;
}

function termPattern(term: string): RegExp {
  const normalized = normalizeForMatching(term).trim();
  const body = [...normalized]
    .map((c) => {
      if (/\s/u.test(c)) return String.raw`[\s\p{P}_]+`;
      const alts = LEET[c];
      return alts ? `[${[...alts].map(escapeChar).join('')}]` : escapeChar(c);
    })
    .join('')
    .replace(/(\[\\s\\p\{P\}_\]\+)+/gu, String.raw`[\s\p{P}_]+`);
  return new RegExp(String.raw`(?<![\p{L}\p{N}])${body}(?![\p{L}\p{N}])`, 'u');
}

export function refusalMessage(term: string): string {
  return `Your prompt was refused because it mentions "${term}", which this server does not allow; rephrase it without that term.`;
}

export function createPromptPolicy(config: { blockedTerms: readonly string[] }): PromptPolicy {
  const rules = config.blockedTerms
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((term) => ({ term, pattern: termPattern(term) }));
  const check = (text: string): PolicyVerdict => {
    const normalized = normalizeForMatching(text);
    for (const rule of rules) {
      if (rule.pattern.test(normalized)) return { allowed: false, term: rule.term, message: refusalMessage(rule.term) };
    }
    return { allowed: true };
  };
  return {
    check,
    assertAllowed(text: string) {
      const verdict = check(text);
      if (!verdict.allowed) throw new DailiesError('policy_refused', verdict.message);
    },
  };
}

/** A policy that allows everything, for tests and servers with no block list. */
export const allowAllPolicy: PromptPolicy = createPromptPolicy({ blockedTerms: [] });
