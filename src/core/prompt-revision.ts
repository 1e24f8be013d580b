import { clip } from './text.ts';

/**
 * Plain-text revision of a prompt (the "<plain text>" rule of src/core/refine-grammar.ts).
 * Each comma/semicolon clause of the reply is matched as a whole against four slots, in order:
 * background, motion, style, colour + noun. A matching clause replaces the prompt's phrase of
 * that slot verbatim (the first one found); anything else is appended after ", ".
 * Matching is case-insensitive; the typed text is kept as typed. Examples:
 *   "a red ball bouncing, on a white background" + "on a blue background"
 *     -> "a red ball bouncing, on a blue background"
 *   "a cat moving right" + "moving left"              -> "a cat moving left"
 *   "a red ball bouncing" + "blue ball"               -> "a blue ball bouncing"
 *   "a ball bouncing" + "orange ball"                 -> "an orange ball bouncing"
 *   "a red ball" + "at night"                         -> "a red ball, at night"
 */

const W = String.raw`[\p{L}\p{N}'’-]+`;
const NOT_WORD_BEFORE = String.raw`(?<![\p{L}\p{N}])`;
const NOT_WORD_AFTER = String.raw`(?![\p{L}\p{N}])`;

const PREPOSITION = String.raw`(?:on|against|over|with|behind|in\s+front\s+of)`;
const BACKGROUND_WORD = String.raw`(?:background|backdrop)`;
const BACKGROUND_CLAUSE = new RegExp(String.raw`^(?:${PREPOSITION}\s+)?(?:(?:a|an|the)\s+)?(?:${W}\s+){0,3}${BACKGROUND_WORD}$`, 'iu');
const BACKGROUND_IN_PROMPT = new RegExp(String.raw`${NOT_WORD_BEFORE}(?:${PREPOSITION}\s+)?(?:(?:a|an|the)\s+)?(?:${W}\s+){0,3}${BACKGROUND_WORD}${NOT_WORD_AFTER}`, 'iu');

const MOTION_WORD = String.raw`(?:moving|moves|move|drifting|flying|floating|panning|pans|zooming|zooms|rotating|rotates|spinning|spins|turning|sliding|rolling|bouncing|falling|rising|running|walking|swimming|orbiting|circling|shaking|waving)`;
const MOTION_TAIL = String.raw`(?:to\s+the\s+(?:left|right)|towards?\s+the\s+(?:camera|viewer)|away\s+from\s+the\s+(?:camera|viewer)|left|right|up|down|in|out|forwards?|backwards?|clockwise|counterclockwise|anticlockwise|around|away|across|sideways|diagonally|upwards?|downwards?|slowly|quickly|fast|gently|smoothly|steadily)`;
const MOTION_CLAUSE = new RegExp(String.raw`^${MOTION_WORD}${NOT_WORD_AFTER}(?:\s+${W}){0,5}$`, 'iu');
const MOTION_IN_PROMPT = new RegExp(String.raw`${NOT_WORD_BEFORE}${MOTION_WORD}${NOT_WORD_AFTER}(?:\s+${MOTION_TAIL}${NOT_WORD_AFTER})*`, 'iu');

const STYLE_CLAUSE = new RegExp(String.raw`^in\s+(?:the\s+style\s+of\s+.+|(?:(?:a|an)\s+)?(?:${W}\s+){1,3}style)$`, 'iu');
const STYLE_IN_PROMPT = new RegExp(String.raw`${NOT_WORD_BEFORE}in\s+(?:the\s+style\s+of\s+[^,;]+|(?:(?:a|an)\s+)?(?:${W}\s+){1,3}style${NOT_WORD_AFTER})`, 'iu');

const COLOURS = 'red|orange|yellow|green|blue|purple|violet|pink|brown|black|white|grey|gray|cyan|magenta|teal|gold|golden|silver|beige|navy|turquoise|indigo|maroon|crimson|lime|olive';
const COLOUR = String.raw`(?:(?:light|dark|bright|pale|deep)\s+)?(?:${COLOURS})`;
const COLOUR_NOUN_CLAUSE = new RegExp(String.raw`^(?:(?:a|an|the|some)\s+)?(${COLOUR})\s+(${W}(?:\s+${W})?)$`, 'iu');

export interface Revision {
  prompt: string;
  changes: string[];
}

export function revisePrompt(prompt: string, text: string): Revision {
  let current = prompt;
  const changes: string[] = [];
  for (const clause of text.split(/[,;]/u).map((c) => c.trim()).filter((c) => c !== '')) {
    const step = reviseOne(current, clause);
    current = step.prompt;
    changes.push(step.change);
  }
  return { prompt: current, changes };
}

function reviseOne(prompt: string, clause: string): { prompt: string; change: string } {
  if (BACKGROUND_CLAUSE.test(clause)) return replaceSlot(prompt, clause, BACKGROUND_IN_PROMPT, 'background');
  if (MOTION_CLAUSE.test(clause)) return replaceSlot(prompt, clause, MOTION_IN_PROMPT, 'motion');
  if (STYLE_CLAUSE.test(clause)) return replaceSlot(prompt, clause, STYLE_IN_PROMPT, 'style');
  const colourNoun = COLOUR_NOUN_CLAUSE.exec(clause);
  if (colourNoun) return recolour(prompt, clause, colourNoun[1] ?? '', colourNoun[2] ?? '');
  return append(prompt, clause);
}

function replaceSlot(prompt: string, clause: string, inPrompt: RegExp, slot: string): { prompt: string; change: string } {
  const found = inPrompt.exec(prompt);
  if (!found) return append(prompt, clause);
  const old = found[0];
  const next = prompt.slice(0, found.index) + clause + prompt.slice(found.index + old.length);
  return { prompt: fixArticle(next, found.index), change: `${slot} '${clip(old)}' -> '${clip(clause)}'` };
}

function recolour(prompt: string, clause: string, colour: string, noun: string): { prompt: string; change: string } {
  const nounPattern = noun.split(/\s+/u).map(escapeRegExp).join(String.raw`\s+`);
  const coloured = new RegExp(String.raw`${NOT_WORD_BEFORE}${COLOUR}(\s+${nounPattern})${NOT_WORD_AFTER}`, 'iu').exec(prompt);
  if (coloured) {
    const old = coloured[0];
    const next = prompt.slice(0, coloured.index) + colour + (coloured[1] ?? '') + prompt.slice(coloured.index + old.length);
    return { prompt: fixArticle(next, coloured.index), change: `'${clip(old)}' -> '${clip(colour + (coloured[1] ?? ''))}'` };
  }
  const bare = new RegExp(String.raw`${NOT_WORD_BEFORE}${nounPattern}${NOT_WORD_AFTER}`, 'iu').exec(prompt);
  if (bare) {
    const next = `${prompt.slice(0, bare.index)}${colour} ${prompt.slice(bare.index)}`;
    return { prompt: fixArticle(next, bare.index), change: `'${clip(bare[0])}' -> '${clip(`${colour} ${bare[0]}`)}'` };
  }
  return append(prompt, clause);
}

function append(prompt: string, clause: string): { prompt: string; change: string } {
  const base = prompt.trim().replace(/[,;]\s*$/u, '');
  return { prompt: base === '' ? clause : `${base}, ${clause}`, change: `added '${clip(clause)}'` };
}

/** Makes "a"/"an" right before `at` agree with the word now starting there ("a orange" -> "an orange"). */
function fixArticle(text: string, at: number): string {
  const before = /(?<![\p{L}\p{N}])(a|an|A|An|AN)\s+$/u.exec(text.slice(0, at));
  if (!before) return text;
  const vowel = /^[aeiou]/iu.test(text.slice(at));
  const word = before[1] ?? 'a';
  const upper = word[0] === 'A';
  const article = vowel ? (upper ? 'An' : 'an') : upper ? 'A' : 'a';
  if (article.toLowerCase() === word.toLowerCase()) return text;
  return text.slice(0, before.index) + article + text.slice(before.index + word.length);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}
