import { MAX_PROMPT_CHARS, charCount, cleanText, hasLoneSurrogate } from './text.ts';

/**
 * The refinement grammar: what a reply in a session thread (or `/refine <text>`) means.
 * Same text in docs/refinement.md. One reply holds one directive; keywords are case-insensitive
 * and the reply is first cleaned (NFC, whitespace collapsed, trimmed).
 *
 *   help  |  ?                    -> show this grammar
 *   again |  reroll  |  re-roll   -> same prompt, new random seed
 *   prompt: <text>                -> replace the whole prompt
 *   negative: <text>              -> set the negative prompt; `negative:` alone, `none` or `-` clear it
 *   seed: <0..2147483647>         -> render with that seed (`seed: random` is `again`)
 *   takes: <1..4>                 -> takes per render from now on (no new version)
 *   from v<N>: <any edit above except help/takes, or plain text, or nothing>
 *                                 -> branch: the new version starts from vN instead of the current one
 *   shot <N>: <any edit above except help/takes/from, or plain text>
 *                                 -> in a storyboard: revise shot N's prompt only (a shot one past
 *                                    the last adds a shot, its text being the whole prompt)
 *   <plain text>                  -> revise the current prompt (src/core/prompt-revision.ts):
 *       the text is split at commas/semicolons into clauses; each clause
 *       - that is a background phrase ("on a blue background") replaces the prompt's background phrase,
 *       - that starts with a motion word ("moving left", "spinning slowly") replaces the prompt's motion phrase,
 *       - that is a style phrase ("in pixel art style", "in the style of ...") replaces the prompt's style phrase,
 *       - that is colour + noun ("blue ball") recolours that noun in the prompt (or colours it if it had none),
 *       - and otherwise, or when the prompt has no such phrase, is appended as a new clause after ", ".
 *       The background, motion and colour words are those of the session's model when it declares
 *       them (src/core/prompt-vocabulary.ts), else built-in English ones.
 *
 * Errors (one sentence each): an empty reply; more than 1000 characters; broken characters
 * (unpaired UTF-16 surrogates); a leading `word:` that is not a directive above; a directive
 * with a bad value (`seed: -1`, `takes: 9`, `prompt:` with nothing after it, `from v0:`).
 */

export type BranchableEdit =
  | { kind: 'revise'; text: string }
  | { kind: 'replace'; prompt: string }
  | { kind: 'negative'; negativePrompt: string }
  | { kind: 'seed'; seed: number }
  | { kind: 'reroll' };

export type RefineEdit =
  | BranchableEdit
  | { kind: 'takes'; takes: number }
  | { kind: 'help' }
  | { kind: 'branch'; from: number; then: BranchableEdit | null }
  | { kind: 'shot'; shot: number; then: BranchableEdit };

export type ParseResult = { ok: true; edit: RefineEdit } | { ok: false; error: string };

export interface GrammarLimits {
  maxTakes: number;
  maxChars: number;
}

export const MAX_SEED = 2 ** 31 - 1;
const DEFAULT_LIMITS: GrammarLimits = { maxTakes: 4, maxChars: MAX_PROMPT_CHARS };

const DIRECTIVES = 'prompt:, negative:, seed:, takes:, from vN:, shot N:, again or help';

export function parseRefinement(raw: string, limits: Partial<GrammarLimits> = {}): ParseResult {
  const { maxTakes, maxChars } = { ...DEFAULT_LIMITS, ...limits };
  if (typeof raw !== 'string') return fail('Your reply is not text; type a change to the prompt, or help.');
  if (hasLoneSurrogate(raw)) return fail('Your reply contains broken characters (unpaired UTF-16 surrogates); retype it and send it again.');
  const text = cleanText(raw);
  if (text === '') return fail('Your reply is empty; type a change to the prompt, or help to see what replies can do.');
  const length = charCount(text);
  if (length > maxChars) return fail(`Your reply is ${length} characters long; keep it to ${maxChars} or fewer.`);

  const branch = /^from\s+v?(\d{1,6})\s*(?::\s*(.*))?$/isu.exec(text);
  if (branch) {
    const from = Number(branch[1]);
    if (from < 1) return fail('Versions start at v1; write from v1: or a later version.');
    const rest = (branch[2] ?? '').trim();
    if (rest === '') return ok({ kind: 'branch', from, then: null });
    const inner = parseSimple(rest, maxTakes);
    if (!inner.ok) return inner;
    const edit = inner.edit;
    if (edit.kind === 'help' || edit.kind === 'takes' || edit.kind === 'branch' || edit.kind === 'shot') {
      return fail(`from v${from}: must be followed by a prompt change, prompt:, negative:, seed: or again.`);
    }
    return ok({ kind: 'branch', from, then: edit });
  }
  const shot = /^shot\s+#?(\d{1,3})\s*:\s*(.*)$/isu.exec(text);
  if (shot) {
    const n = Number(shot[1]);
    if (n < 1) return fail('Shots start at 1; write shot 1: and the change.');
    const rest = (shot[2] ?? '').trim();
    if (rest === '') return fail(`shot ${n}: needs a change or a prompt after the colon, e.g. shot ${n}: on a blue background.`);
    const inner = parseSimple(rest, maxTakes);
    if (!inner.ok) return inner;
    const edit = inner.edit;
    if (edit.kind === 'help' || edit.kind === 'takes' || edit.kind === 'branch' || edit.kind === 'shot') {
      return fail(`shot ${n}: must be followed by a prompt change, prompt:, negative:, seed: or again.`);
    }
    return ok({ kind: 'shot', shot: n, then: edit });
  }
  return parseSimple(text, maxTakes);
}

function parseSimple(text: string, maxTakes: number): ParseResult {
  if (/^(help|\?)[.!?]*$/iu.test(text)) return ok({ kind: 'help' });
  if (/^(again|reroll|re-roll)[.!]*$/iu.test(text)) return ok({ kind: 'reroll' });

  const directive = /^([\p{L}][\p{L}\p{N}_-]{0,30})\s*:\s*(.*)$/su.exec(text);
  if (!directive) return ok({ kind: 'revise', text });
  const word = (directive[1] ?? '').toLowerCase();
  const value = (directive[2] ?? '').trim();
  switch (word) {
    case 'prompt':
      if (value === '') return fail('prompt: needs the new prompt after the colon, e.g. prompt: a red ball on a blue background.');
      return ok({ kind: 'replace', prompt: value });
    case 'negative':
      return ok({ kind: 'negative', negativePrompt: /^(none|-)$/iu.test(value) ? '' : value });
    case 'seed': {
      if (/^random$/iu.test(value)) return ok({ kind: 'reroll' });
      const seed = wholeNumber(value);
      if (seed === null || seed > MAX_SEED) return fail(`seed: must be a whole number from 0 to ${MAX_SEED}, or random.`);
      return ok({ kind: 'seed', seed });
    }
    case 'takes': {
      const takes = wholeNumber(value);
      if (takes === null || takes < 1 || takes > maxTakes) return fail(`takes: must be a whole number from 1 to ${maxTakes}.`);
      return ok({ kind: 'takes', takes });
    }
    default:
      return fail(`"${word}:" is not a reply command; use ${DIRECTIVES}, or write the change without a colon.`);
  }
}

function wholeNumber(value: string): number | null {
  if (!/^\d{1,10}$/u.test(value)) return null;
  return Number(value);
}

function ok(edit: RefineEdit): ParseResult {
  return { ok: true, edit };
}

function fail(error: string): ParseResult {
  return { ok: false, error };
}
