import { DailiesError } from '../errors.ts';
import type { CheckedPrompt, PromptCheck, PromptRefusal } from '../core/ports/prompt-check.ts';
import { lettersAndDigits, normalizeForMatching } from './matching-form.ts';

export { normalizeForMatching } from './matching-form.ts';

/**
 * Prompt policy: a server-configured block list. Terms and prompts are first brought to the same
 * matching form (./matching-form.ts: NFKC, lower case, no accents, no invisible characters,
 * look-alike letters mapped to the Latin letter they imitate), then a term is refused when
 *
 * 1. Word check: it appears as a whole word, each letter also matching its usual digit or sign
 *    stand-ins (g0re, b100d, a$$), spaces or punctuation where the term has a space, and an
 *    optional plural s/es. Whole words only, so "allegory" and "gorey" do not hit "gore". A
 *    match must hold a letter when the term does: "455" and "8008" are numbers, not "ass", "boob".
 *
 * 2. Squeeze check, against spelling tricks: each whitespace-separated token is reduced to its
 *    letters and digits (separators, punctuation, emoji gone: "f-o-r", "f.o.r", "f😀o😀r" are
 *    "for"). A reduced token, or a window of consecutive reduced tokens joined together, hits when
 *    the WHOLE of it spells the term, where a letter may be repeated more often than in the term
 *    ("forrbidden", "fooorbidden") but not less often, and a plural s/es may follow. Windows:
 *    - one token, always ("forbidden-word", "forbiddenwords");
 *    - several tokens of one character each (a spelled-out "f o r b i d d e n");
 *    - any several tokens only for terms of at least MIN_JOINED_LETTERS letters ("forbidden word",
 *      "forbidden\nword"). Short terms are too easily spelled by accident by two ordinary words
 *      ("pen is", "an al", "as s"), long ones hardly ever.
 *    Never the whole prompt run together, and never part of a token: "a glass" does not hit
 *    "ass", nor "grapes" "rape". Letters repeated LESS often than in the term do not count, or
 *    "as" would hit "ass" and "but" "butt".
 *
 * `assertAllowed` checks the negative prompt too when it is passed: it is stored and shown in the
 * thread like the prompt. A policy is also a PromptCheck (src/core/ports/prompt-check.ts), the
 * seam a text classifier plugs into; its synchronous side lets the core check again inside an
 * atomic session write.
 */

export type PolicyVerdict = { allowed: true } | { allowed: false; term: string; message: string };

export interface PromptPolicy extends PromptCheck {
  check(text: string): PolicyVerdict;
  /** The refusal of the prompt or, when given, its negative prompt; null when both pass. */
  refusal(prompt: string, negativePrompt?: string): PromptRefusal | null;
  /** Throws DailiesError('policy_refused') with the refusal sentence; a given negative prompt is checked too. */
  assertAllowed(prompt: string, negativePrompt?: string): void;
}

/** Terms this long may be matched across several ordinary words (see the file header). */
export const MIN_JOINED_LETTERS = 6;

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

function escapeChar(c: string): string {
  return /[.*+?^${}()|[\]\\/-]/u.test(c) ? `\\${c}` : c;
}

/** A regex class for one letter of a term and its stand-ins (only letters and digits when `alnumOnly`). */
function letterClass(c: string, alnumOnly = false): string {
  const alts = [...(LEET[c] ?? c)].filter((a) => !alnumOnly || /[\p{L}\p{N}]/u.test(a));
  return alts.length === 1 ? escapeChar(alts[0]!) : `[${alts.map(escapeChar).join('')}]`;
}

function wordPattern(normalizedTerm: string): RegExp {
  const body = [...normalizedTerm]
    .map((c) => (/\s/u.test(c) ? String.raw`[\s\p{P}_]+` : letterClass(c)))
    .join('')
    .replace(/(\[\\s\\p\{P\}_\]\+)+/gu, String.raw`[\s\p{P}_]+`);
  const plural = `(?:${letterClass('e')}?${letterClass('s')})?`;
  return new RegExp(String.raw`(?<![\p{L}\p{N}])${body}${plural}(?![\p{L}\p{N}])`, 'gu');
}

/** Anchored: the whole reduced window must spell the term (runs at least as long as the term's), plus an optional s/es. */
function squeezePattern(squeezedTerm: string): RegExp {
  const runs: { c: string; n: number }[] = [];
  for (const c of squeezedTerm) {
    const last = runs[runs.length - 1];
    if (last?.c === c) last.n++;
    else runs.push({ c, n: 1 });
  }
  const body = runs.map(({ c, n }) => `${letterClass(c, true)}{${n},}`).join('');
  const e = letterClass('e', true);
  const s = letterClass('s', true);
  return new RegExp(`^${body}(?:${e}+${s}+|${s}+)?$`, 'u');
}

interface Rule {
  term: string;
  /** Global, so that every match is looked at, not just the first. */
  word: RegExp;
  /** Null for a term without letters or digits (only the word check applies). */
  squeeze: RegExp | null;
  /** Letters and digits of the normalised term. */
  squeezed: string;
  /** The characters a window must start with to spell the term (its first letter and stand-ins). */
  starts: string[];
  /** Long enough to be matched across several ordinary words (MIN_JOINED_LETTERS). */
  joinable: boolean;
  /** The term has letters, so a match must have one too: "455" or "8008" is a number, not "ass" or "boob" in digits. */
  needsLetter: boolean;
}

const LETTER = /\p{L}/u;

interface Window {
  text: string;
  /** True for a window of several tokens that are not all single characters. */
  joined: boolean;
}

/** A single character, possibly repeated ("f", "dd"): a piece of a spelled-out word. */
const ONE_CHARACTER = /^(.)\1*$/u;

/** The reduced tokens and token windows the squeeze check tests (see the file header). */
function windowsOf(normalized: string, maxChars: number): Window[] {
  const tokens = normalized.split(/\s+/u).map(lettersAndDigits).filter((t) => t !== '');
  const seen = new Set<string>();
  const out: Window[] = [];
  const add = (text: string, joined: boolean) => {
    const key = `${joined ? 'j' : 's'}:${text}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ text, joined });
  };
  const lengths = tokens.map((t) => [...t].length);
  for (let i = 0; i < tokens.length; i++) {
    let text = tokens[i]!;
    let length = lengths[i]!;
    add(text, false);
    let spelled = ONE_CHARACTER.test(text);
    for (let j = i + 1; j < tokens.length; j++) {
      text += tokens[j]!;
      length += lengths[j]!;
      if (length > maxChars) break;
      spelled &&= ONE_CHARACTER.test(tokens[j]!);
      add(text, !spelled);
    }
  }
  return out;
}

/** Whose rule a refusal names: the server's block list, or the channel's (`/policy`). */
export type PolicyScope = 'server' | 'channel';

export function refusalMessage(term: string, scope: PolicyScope = 'server'): string {
  return `Your prompt was refused because it mentions "${term}", which this ${scope} does not allow; rephrase it without that term.`;
}

export function negativeRefusalMessage(term: string, scope: PolicyScope = 'server'): string {
  return `Your negative prompt was refused because it mentions "${term}", which this ${scope} does not allow; rephrase it without that term.`;
}

/** The server's policy, then a channel's: a prompt must pass both, and a refusal names the one it broke. */
export function combinePolicies(first: PromptPolicy, then: PromptPolicy): PromptPolicy {
  const refusal = (prompt: string, negativePrompt?: string) => first.refusal(prompt, negativePrompt) ?? then.refusal(prompt, negativePrompt);
  return {
    name: `${first.name} and ${then.name}`,
    refusal,
    review: async (prompts) => reviewEach(prompts, refusal),
    check: (text) => {
      const verdict = first.check(text);
      return verdict.allowed ? then.check(text) : verdict;
    },
    assertAllowed(prompt, negativePrompt) {
      first.assertAllowed(prompt, negativePrompt);
      then.assertAllowed(prompt, negativePrompt);
    },
  };
}

/** The first refusal among several prompts, each with its negative prompt. */
function reviewEach(prompts: readonly CheckedPrompt[], refusal: PromptPolicy['refusal']): PromptRefusal | null {
  for (const p of prompts) {
    const found = refusal(p.prompt, p.negativePrompt);
    if (found) return found;
  }
  return null;
}

export function createPromptPolicy(config: { blockedTerms: readonly string[]; scope?: PolicyScope }): PromptPolicy {
  const scope = config.scope ?? 'server';
  const rules: Rule[] = config.blockedTerms
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((term) => {
      const normalized = normalizeForMatching(term).trim();
      const squeezed = lettersAndDigits(normalized);
      const first = [...squeezed][0];
      return {
        term,
        word: wordPattern(normalized),
        squeeze: first === undefined ? null : squeezePattern(squeezed),
        squeezed,
        starts: first === undefined ? [] : [...(LEET[first] ?? first)],
        joinable: [...squeezed].length >= MIN_JOINED_LETTERS,
        needsLetter: LETTER.test(squeezed),
      };
    });
  // Windows longer than this cannot spell any term, unless with very long letter runs spread
  // over several tokens, which is no longer a plausible way to write a word.
  const longest = Math.max(0, ...rules.map((r) => [...r.squeezed].length));
  const maxWindowChars = longest * 2 + 4;

  const refusal = (text: string): Rule | null => {
    const normalized = normalizeForMatching(text);
    // Indexed by first character, so that each rule looks at only the windows it could spell.
    const byStart = new Map<string, Window[]>();
    if (rules.some((r) => r.squeeze)) {
      for (const w of windowsOf(normalized, maxWindowChars)) {
        const first = String.fromCodePoint(w.text.codePointAt(0)!);
        const list = byStart.get(first);
        if (list) list.push(w);
        else byStart.set(first, [w]);
      }
    }
    for (const rule of rules) {
      const counts = (found: string) => !rule.needsLetter || LETTER.test(found);
      if ([...normalized.matchAll(rule.word)].some((m) => counts(m[0]))) return rule;
      const squeeze = rule.squeeze;
      if (!squeeze) continue;
      for (const start of rule.starts) {
        if (byStart.get(start)?.some((w) => (!w.joined || rule.joinable) && counts(w.text) && squeeze.test(w.text))) return rule;
      }
    }
    return null;
  };
  const check = (text: string): PolicyVerdict => {
    const rule = refusal(text);
    return rule ? { allowed: false, term: rule.term, message: refusalMessage(rule.term, scope) } : { allowed: true };
  };
  const refusalOf = (prompt: string, negativePrompt?: string): PromptRefusal | null => {
    const verdict = check(prompt);
    if (!verdict.allowed) return { rule: verdict.term, message: verdict.message };
    const negative = negativePrompt ? refusal(negativePrompt) : null;
    return negative ? { rule: negative.term, message: negativeRefusalMessage(negative.term, scope) } : null;
  };
  return {
    name: `${scope} blocked terms`,
    check,
    refusal: refusalOf,
    review: async (prompts) => reviewEach(prompts, refusalOf),
    assertAllowed(prompt: string, negativePrompt?: string) {
      const found = refusalOf(prompt, negativePrompt);
      if (found) throw new DailiesError('policy_refused', found.message);
    },
  };
}

/** A policy that allows everything, for tests and servers with no block list. */
export const allowAllPolicy: PromptPolicy = createPromptPolicy({ blockedTerms: [] });
