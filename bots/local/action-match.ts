import type { Button } from '../../src/core/ports/chat-adapter.ts';

/**
 * Scripts and tests say "vote for take 2" instead of knowing the core's button keys. The server
 * turns that into the key of a button the core really posted: the latest message carrying a
 * matching button wins, as a person would click the newest one.
 */

export interface ActionWish {
  /** A verb such as "vote", "finalize", "cancel", "reroll"; compared case-insensitively. */
  action: string;
  /** 1-based take number as people see it ("Take 2"). */
  take?: number;
}

export interface ButtonCandidate {
  button: Button;
  /** Text of the message carrying the button; a take's own message often says "Take 2". */
  messageText: string;
}

/** Decides whether a button does what was asked; the core can inject one that knows its key format. */
export type ActionMatcher = (candidate: ButtonCandidate, wish: ActionWish) => boolean;

const words = (s: string): string[] => s.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
const numbers = (s: string): number[] => (s.match(/\d+/g) ?? []).map(Number);

/**
 * Default matcher, following the core's key format (src/core/actions.ts: `verb:ids…:take`, takes
 * 0-based in keys, 1-based for people). The verb is the key's first segment or a word of the key or
 * label. The take is read from the most human source that names one: the label's first number
 * ("Vote 2 (3 votes)"), else "take N" in the message text ("Take 2 of v1"), else the key's last
 * number as a 0-based index.
 */
export const defaultActionMatcher: ActionMatcher = ({ button, messageText }, wish) => {
  const verb = wish.action.toLowerCase();
  const key = button.action.toLowerCase();
  if (key.split(':')[0] !== verb && !words(key).includes(verb) && !words(button.label).includes(verb)) return false;
  if (wish.take === undefined) return true;
  const labelTake = numbers(button.label)[0];
  if (labelTake !== undefined) return labelTake === wish.take;
  const textTake = /\btake\s*#?(\d+)\b/i.exec(messageText)?.[1];
  if (textTake !== undefined) return Number(textTake) === wish.take;
  return numbers(key).at(-1) === wish.take - 1;
};

export type ButtonLookup = { button: Button } | { ambiguous: Button[] } | null;

/** Searches messages newest first; several matches on the same message are ambiguous. */
export function findButton(
  messages: readonly { text: string; buttons: Button[][] }[],
  wish: ActionWish,
  matcher: ActionMatcher = defaultActionMatcher,
): ButtonLookup {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    const hits = message.buttons.flat().filter((button) => matcher({ button, messageText: message.text }, wish));
    if (hits.length === 1) return { button: hits[0]! };
    if (hits.length > 1) return { ambiguous: hits };
  }
  return null;
}
