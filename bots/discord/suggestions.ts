import type { ChatUser, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import type { SuggestionKind } from './command-definitions.ts';

/** Discord shows at most 25 autocomplete choices; names and string values are capped at 100 chars. */
export const MAX_CHOICES = 25;
const CHOICE_CHARS = 100;

export interface SuggestionQuery {
  kind: SuggestionKind;
  command: string;
  option: string;
  /** What the user has typed so far (always text, even for number options). */
  typed: string;
  /** The option's upper bound, when it has one (e.g. the number of takes). */
  max?: number;
  user: ChatUser;
  channelId: string;
  thread?: ThreadRef;
}

export interface Suggestion {
  name: string;
  value: string | number;
}

/**
 * Supplies autocomplete choices (e.g. the session's real takes, the user's saved prompts). Must
 * answer fast: Discord drops the answer after 3 s, so the adapter falls back to its own memory
 * when a provider is slow or fails.
 */
export type SuggestionProvider = (query: SuggestionQuery) => Promise<readonly Suggestion[]> | readonly Suggestion[];

/**
 * Texts seen recently, per channel and per thread (prompts people typed, take references of takes
 * the bot posted), so autocomplete works before (or without) a provider from the core. Bounded:
 * old scopes are forgotten first.
 */
export class RecentPrompts {
  private readonly scopes = new Map<string, string[]>();

  constructor(private readonly maxScopes = 1000) {}

  remember(scope: string, prompt: string): void {
    const text = prompt.trim().replace(/\s+/g, ' ');
    if (!text) return;
    const list = (this.scopes.get(scope) ?? []).filter((p) => p !== text);
    list.unshift(text);
    this.scopes.delete(scope);
    this.scopes.set(scope, list.slice(0, MAX_CHOICES));
    if (this.scopes.size > this.maxScopes) this.scopes.delete(this.scopes.keys().next().value!);
  }

  recent(scopes: readonly string[]): string[] {
    const out: string[] = [];
    for (const s of scopes) for (const p of this.scopes.get(s) ?? []) if (!out.includes(p)) out.push(p);
    return out;
  }
}

/**
 * The take reference a take's message names (render-message.ts: "Take 2 of v3 · seed 7"), as
 * people type it (`v3#2`); null for any other message.
 */
export function takeRefOfPost(text: string): string | null {
  const m = /^Take (\d{1,3}) of v(\d{1,6})\b/.exec(text);
  return m ? `v${m[2]}#${m[1]}` : null;
}

export function defaultSuggestions(query: SuggestionQuery, prompts: RecentPrompts, takeRefs: RecentPrompts = new RecentPrompts()): Suggestion[] {
  const typed = query.typed.trim().toLowerCase();
  if (query.kind === 'take-refs') {
    // Takes this bot posted in the thread, newest first; before any (or after a restart), the
    // bare numbers, which name a take of the newest version.
    const known = (query.thread ? takeRefs.recent([query.thread.threadId]) : [])
      .map((ref) => ({ ref, version: Number(ref.slice(1, ref.indexOf('#'))), take: Number(ref.slice(ref.indexOf('#') + 1)) }))
      .sort((a, b) => b.version - a.version || a.take - b.take);
    const list =
      known.length > 0
        ? known.map((k) => ({ name: `Take ${k.take} of v${k.version} (${k.ref})`, value: k.ref }))
        : [1, 2, 3, 4].map((n) => ({ name: `Take ${n} of the newest version`, value: String(n) }));
    return list.filter((s) => !typed || s.value.toLowerCase().startsWith(typed) || s.value.toLowerCase().replace(/^v\d+#/, '').startsWith(typed));
  }
  if (query.kind === 'takes') {
    return Array.from({ length: Math.min(query.max ?? 4, MAX_CHOICES) }, (_, i) => i + 1)
      .filter((n) => !typed || String(n).startsWith(typed))
      .map((n) => ({ name: `Take ${n}`, value: n }));
  }
  const scopes = query.thread ? [query.thread.threadId, query.channelId] : [query.channelId];
  return prompts
    .recent(scopes)
    // A choice's value is capped at 100 chars; a silently cut prompt is worse than no suggestion.
    .filter((p) => p.length <= CHOICE_CHARS && (!typed || p.toLowerCase().includes(typed)))
    .map((p) => ({ name: p, value: p }));
}

/** Trims a list to what Discord accepts for an option of the given type. */
export function toChoices(list: readonly Suggestion[], numeric: boolean): { name: string; value: string | number }[] {
  return list
    .filter((s) => (numeric ? typeof s.value === 'number' && Number.isFinite(s.value) : typeof s.value === 'string' && s.value.length >= 1 && s.value.length <= CHOICE_CHARS))
    .slice(0, MAX_CHOICES)
    .map((s) => ({ name: s.name.length > CHOICE_CHARS ? `${s.name.slice(0, CHOICE_CHARS - 1)}…` : s.name || String(s.value), value: s.value }));
}
