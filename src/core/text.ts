/**
 * Text hygiene shared by the grammar, the command options and the policy. Limits count Unicode
 * code points, not UTF-16 units, so an emoji costs one character like a letter does.
 */

export const MAX_PROMPT_CHARS = 1000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string holds half of a surrogate pair: such text cannot be stored or sent as UTF-8. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * Invisible characters that never carry meaning in a prompt: zero-width space, U+FEFF, word
 * joiner and invisible operators, soft hyphen, direction marks and overrides, Hangul fillers.
 * They are removed, not turned into spaces (JS counts U+FEFF as whitespace), so "forbid\uFEFFden"
 * stays one word for the prompt policy and for people. Zero-width joiners, variation selectors and
 * tag characters stay: emoji sequences and some scripts need them.
 */
const MEANINGLESS = /[\u00AD\u034F\u115F\u1160\u17B4\u17B5\u180E\u200B\u200E\u200F\u202A-\u202E\u2060-\u206F\u3164\uFEFF\uFFA0\u{1BCA0}-\u{1BCA3}]/gu;

/** What is left when nothing shows: whitespace, default-ignorable characters and the braille blank. */
const NOTHING_VISIBLE = /^[\s\p{Default_Ignorable_Code_Point}\p{Cf}\u2800]*$/u;

/**
 * NFC, meaningless invisible characters removed, control characters to spaces, whitespace runs
 * collapsed, trimmed; text in which nothing would show (only joiners, variation selectors...)
 * is empty, so it gets the empty-text answer.
 */
export function cleanText(text: string): string {
  const cleaned = text
    .normalize('NFC')
    .replace(MEANINGLESS, '')
    .replace(/[\p{Cc}\u2028\u2029]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  return NOTHING_VISIBLE.test(cleaned) ? '' : cleaned;
}

/** Shortens for quoting in a one-line change description or a message. */
export function clip(text: string, max = 40): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}
