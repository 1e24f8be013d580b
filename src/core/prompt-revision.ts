import { DEFAULT_PROMPT_VOCABULARY, type PromptVocabulary } from './prompt-vocabulary.ts';
import { clip } from './text.ts';

/**
 * Plain-text revision of a prompt (the "<plain text>" rule of src/core/refine-grammar.ts).
 * Each comma/semicolon clause of the reply is matched as a whole against four slots, in order:
 * background, motion, style, colour + noun. A matching clause replaces the prompt's phrase of
 * that slot verbatim (the first one found); anything else is appended after ", ". The words of
 * the background, motion and colour slots are the model's (src/core/prompt-vocabulary.ts).
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
const SHADE = String.raw`(?:(?:light|dark|bright|pale|deep)\s+)?`;

const STYLE_CLAUSE = new RegExp(String.raw`^in\s+(?:the\s+style\s+of\s+.+|(?:(?:a|an)\s+)?(?:${W}\s+){1,3}style)$`, 'iu');
const STYLE_IN_PROMPT = new RegExp(String.raw`${NOT_WORD_BEFORE}in\s+(?:the\s+style\s+of\s+[^,;]+|(?:(?:a|an)\s+)?(?:${W}\s+){1,3}style${NOT_WORD_AFTER})`, 'iu');

/** The slot patterns built from one vocabulary's words. */
interface SlotRules {
  backgroundClause: RegExp;
  backgroundInPrompt: RegExp;
  motionClause: RegExp;
  motionInPrompt: RegExp;
  /** Source of a colour with its optional shade, for building the recolouring pattern. */
  colour: string;
  colourNounClause: RegExp;
}

function buildRules(vocabulary: PromptVocabulary): SlotRules {
  const d = DEFAULT_PROMPT_VOCABULARY;
  const background = anyOf(vocabulary.backgrounds ?? d.backgrounds);
  const motion = anyOf(vocabulary.motions ?? d.motions);
  const direction = anyOf(vocabulary.directions ?? d.directions);
  const colour = String.raw`${SHADE}${anyOf(vocabulary.colours ?? d.colours)}`;
  return {
    backgroundClause: new RegExp(String.raw`^(?:${PREPOSITION}\s+)?(?:(?:a|an|the)\s+)?(?:${W}\s+){0,3}${background}$`, 'iu'),
    backgroundInPrompt: new RegExp(String.raw`${NOT_WORD_BEFORE}(?:${PREPOSITION}\s+)?(?:(?:a|an|the)\s+)?(?:${W}\s+){0,3}${background}${NOT_WORD_AFTER}`, 'iu'),
    motionClause: new RegExp(String.raw`^${motion}${NOT_WORD_AFTER}(?:\s+${W}){0,5}$`, 'iu'),
    motionInPrompt: new RegExp(String.raw`${NOT_WORD_BEFORE}${motion}${NOT_WORD_AFTER}(?:\s+${direction}${NOT_WORD_AFTER})*`, 'iu'),
    colour,
    colourNounClause: new RegExp(String.raw`^(?:(?:a|an|the|some)\s+)?(${colour})\s+(${W}(?:\s+${W})?)$`, 'iu'),
  };
}

/** Phrases as one alternation, longest first so "away from the camera" wins over "away"; any spacing between words. */
function anyOf(phrases: readonly string[]): string {
  const sorted = [...phrases].sort((a, b) => b.length - a.length);
  return `(?:${sorted.map((p) => p.trim().split(/\s+/u).map(escapeRegExp).join(String.raw`\s+`)).join('|')})`;
}

const DEFAULT_RULES = buildRules({});
/** Built once per vocabulary object: a catalog hands out the same object for a while. */
const builtRules = new WeakMap<PromptVocabulary, SlotRules>();

function rulesFor(vocabulary: PromptVocabulary | null | undefined): SlotRules {
  if (!vocabulary) return DEFAULT_RULES;
  let rules = builtRules.get(vocabulary);
  if (!rules) builtRules.set(vocabulary, (rules = buildRules(vocabulary)));
  return rules;
}

export interface Revision {
  prompt: string;
  changes: string[];
}

/** `vocabulary`: the words of the model the prompt is for; none (or a class left out): the built-in words. */
export function revisePrompt(prompt: string, text: string, vocabulary?: PromptVocabulary | null): Revision {
  const rules = rulesFor(vocabulary);
  let current = prompt;
  const changes: string[] = [];
  for (const clause of text.split(/[,;]/u).map((c) => c.trim()).filter((c) => c !== '')) {
    const step = reviseOne(current, clause, rules);
    current = step.prompt;
    changes.push(step.change);
  }
  return { prompt: current, changes };
}

function reviseOne(prompt: string, clause: string, rules: SlotRules): { prompt: string; change: string } {
  if (rules.backgroundClause.test(clause)) return replaceSlot(prompt, clause, rules.backgroundInPrompt, 'background');
  if (rules.motionClause.test(clause)) return replaceSlot(prompt, clause, rules.motionInPrompt, 'motion');
  if (STYLE_CLAUSE.test(clause)) return replaceSlot(prompt, clause, STYLE_IN_PROMPT, 'style');
  const colourNoun = rules.colourNounClause.exec(clause);
  if (colourNoun) return recolour(prompt, clause, rules.colour, colourNoun[1] ?? '', colourNoun[2] ?? '');
  return append(prompt, clause);
}

function replaceSlot(prompt: string, clause: string, inPrompt: RegExp, slot: string): { prompt: string; change: string } {
  const found = inPrompt.exec(prompt);
  if (!found) return append(prompt, clause);
  const old = found[0];
  const next = prompt.slice(0, found.index) + clause + prompt.slice(found.index + old.length);
  return { prompt: fixArticle(next, found.index), change: `${slot} '${clip(old)}' -> '${clip(clause)}'` };
}

function recolour(prompt: string, clause: string, anyColour: string, colour: string, noun: string): { prompt: string; change: string } {
  const nounPattern = noun.split(/\s+/u).map(escapeRegExp).join(String.raw`\s+`);
  const coloured = new RegExp(String.raw`${NOT_WORD_BEFORE}${anyColour}(\s+${nounPattern})${NOT_WORD_AFTER}`, 'iu').exec(prompt);
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
