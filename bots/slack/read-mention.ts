import type { CommandSyntax } from './command-syntax.ts';
import { parseCommandText, type CommandOptionValue } from './parse-command-text.ts';

/**
 * What someone meant by mentioning the app (the mention itself already removed). Slack runs no
 * slash commands in threads, so "@dailies finalize 2" there is the command; anything else said to
 * the app in a session thread is a refinement, and outside one "@dailies a paper boat" starts a
 * session like /video. Parse errors throw the parser's DailiesError.
 */
export type MentionReading =
  | { kind: 'command'; name: string; options: Record<string, CommandOptionValue> }
  | { kind: 'reply'; text: string }
  | { kind: 'help'; text: string }
  | { kind: 'needs-prompt' }
  | { kind: 'nothing' };

export function readMention(text: string, commands: ReadonlyMap<string, CommandSyntax>, inSession: boolean, hasFiles: boolean): MentionReading {
  const first = /^\/?([a-z][a-z0-9_-]*)(?:\s+|$)/i.exec(text);
  const named = first ? commands.get(first[1]!.toLowerCase()) : undefined;
  let syntax = named;
  let rest = named ? text.slice(first![0].length) : text;
  if (!syntax) {
    if (inSession) return text === '' && !hasFiles ? { kind: 'nothing' } : { kind: 'reply', text };
    syntax = commands.get('video');
    if (!syntax) return { kind: 'nothing' };
    if (text === '') return { kind: 'needs-prompt' };
    rest = text;
  }
  const parsed = parseCommandText(syntax, rest);
  return parsed.kind === 'help' ? parsed : { kind: 'command', name: syntax.name, options: parsed.options };
}
