import type { CommandSyntax } from './command-syntax.ts';
import { UMBRELLA_COMMAND } from './command-wording.ts';
import { slackToPlain } from './slack-text.ts';

/**
 * Which registry command a slash command runs, and the text left for its options.
 * `/dailies <name> <options…>` runs any command of the registry (commands/index.ts), so a command
 * added there works in Slack with no change here or in the manifest; `/dailies` alone and
 * `/dailies --help` are `help`.
 *
 * The old per-command slash commands (`/cancel`, `/finalize 2`, …) are still accepted: a workspace
 * that installed an earlier manifest keeps sending them until an admin updates the app, they are
 * parsed exactly like their `/dailies` form, and a workspace on the new manifest never sends them,
 * so accepting them costs nothing and refusing them would only break such a workspace.
 */
export type SlashRoute = { kind: 'command'; syntax: CommandSyntax; text: string } | { kind: 'unknown'; message: string };

const HELP_WORDS = new Set(['', '--help', '-h', '—help', '–help']);

export function routeSlashCommand(command: string, text: string, commands: ReadonlyMap<string, CommandSyntax>): SlashRoute {
  const invoked = command.replace(/^\//, '').toLowerCase();
  if (invoked === UMBRELLA_COMMAND) {
    const [, first = '', rest = ''] = /^\s*(\S*)\s*([\s\S]*)$/.exec(text) ?? [];
    const name = first.toLowerCase();
    const syntax = commands.get(HELP_WORDS.has(name) ? 'help' : name);
    if (!syntax) {
      // Only a registry without help (an adapter given its own commands) gets here with no name.
      if (HELP_WORDS.has(name)) return { kind: 'unknown', message: `Type /${UMBRELLA_COMMAND} and a command: ${[...commands.keys()].join(', ')}.` };
      return { kind: 'unknown', message: `"${short(slackToPlain(first))}" is not a dailies command; type /${UMBRELLA_COMMAND} help to list them.` };
    }
    return { kind: 'command', syntax, text: HELP_WORDS.has(name) ? '' : rest };
  }
  const syntax = commands.get(invoked);
  if (!syntax) return { kind: 'unknown', message: `This app has no /${short(invoked)} command; type /${UMBRELLA_COMMAND} help to list its commands.` };
  return { kind: 'command', syntax, text };
}

function short(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
