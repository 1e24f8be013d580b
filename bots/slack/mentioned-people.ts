import type { ChatUser } from '../../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../../src/errors.ts';
import type { CommandSyntax } from './command-syntax.ts';

/**
 * People named in a command (`/block @Ben 2h`). Slack sends a mention as `<@U123|ben>` (or
 * `<@U123>`) when the command escapes users, and the core wants the person's id and shown name,
 * so the id is kept through the text's conversion and the name looked up in the user directory.
 */

/** `<@U123|ben>` -> `<@U123>`, which slackToPlain turns into `@U123` (a labelled mention would lose its id there). */
export function keepMentionIds(text: string): string {
  return text.replace(/<@([UW][A-Z0-9]+)\|[^<>]*>/g, '<@$1>');
}

/** True when the command takes a person: only then is its text read with mention ids kept. */
export function takesPeople(syntax: CommandSyntax | undefined): boolean {
  return syntax?.options.some((o) => o.kind === 'user') ?? false;
}

const MENTION = /^@([UW][A-Z0-9]{2,30})$/;

/**
 * The options with each person option (`@U123` after parsing) turned into `{ id, name }`; a value
 * that is not a mention is refused with one sentence.
 */
export async function resolvePeople(syntax: CommandSyntax | undefined, options: Record<string, unknown>, lookup: (id: string) => Promise<ChatUser>): Promise<Record<string, unknown>> {
  if (!takesPeople(syntax)) return options;
  const out = { ...options };
  for (const o of syntax!.options) {
    const value = out[o.name];
    if (o.kind !== 'user' || value === undefined) continue;
    const id = typeof value === 'string' ? MENTION.exec(value.trim())?.[1] : undefined;
    if (!id) throw new DailiesError('bad_input', `--${o.name} must be a mention of one person, such as @Ben: type @ and pick them from Slack's list.`);
    const person = await lookup(id);
    out[o.name] = { id: person.id, name: person.name };
  }
  return out;
}
