import { DailiesError } from '../../src/errors.ts';

/**
 * The local chat's slash commands are typed as text ("/video a red circle seed:7"), so the page
 * and the API turn a line into the name and options Discord would deliver. The command list comes
 * from the core's registry (./command-help.ts), the same one the page shows for autocomplete.
 */

export interface CommandOptionHelp {
  name: string;
  description?: string;
  /** `person`: a person's display name (`Ben` or `@Ben`), turned into the person the core expects (local-users.ts). */
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'person';
  required?: boolean;
  /** The only values the option takes (`direction`: forward or backward). */
  choices?: string[];
}

export interface CommandHelp {
  name: string;
  description: string;
  options?: CommandOptionHelp[];
  /** Where the command makes sense; the page suggests only the fitting ones. Default: both. */
  where?: 'channel' | 'thread' | 'both';
}

export interface ParsedCommand {
  name: string;
  options: Record<string, string | number | boolean>;
}

function coerce(option: CommandOptionHelp, raw: string): string | number | boolean {
  const value = raw.length >= 2 && /^(["']).*\1$/s.test(raw) ? raw.slice(1, -1) : raw;
  switch (option.type) {
    case 'integer':
      return /^[+-]?\d{1,15}$/.test(value) ? Number(value) : value;
    case 'number':
      return value !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    case 'boolean':
      if (/^(true|yes|on|1)$/i.test(value)) return true;
      if (/^(false|no|off|0)$/i.test(value)) return false;
      return value;
    default:
      return value;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Parses "/name free text key:value key2:value two". Free text fills the first string option not
 * given by key; values run until the next known `key:`; unknown `x:y` stays part of the text.
 * Values are coerced by the option's declared type; commands still validate them (zod).
 */
export function parseCommandLine(line: string, commands: readonly CommandHelp[]): ParsedCommand {
  const m = /^\s*\/([A-Za-z0-9_-]{1,32})(?:\s+([\s\S]*))?$/.exec(line);
  if (!m || !m[1]) throw new DailiesError('bad_input', 'A command starts with "/" and a name, like "/video a red circle".');
  const name = m[1].toLowerCase();
  const rest = (m[2] ?? '').trim();
  const command = commands.find((c) => c.name === name);
  if (!command) throw new DailiesError('bad_input', `There is no /${name} command; type "/" to see the commands.`);
  const declared = command.options ?? [];
  const options: Record<string, string | number | boolean> = {};
  let free = rest;
  if (declared.length > 0 && rest) {
    const keys = new RegExp(`(?:^|\\s)(${declared.map((o) => escapeRegExp(o.name)).join('|')}):`, 'gi');
    const marks = [...rest.matchAll(keys)];
    free = marks.length > 0 ? rest.slice(0, marks[0]!.index).trim() : rest;
    marks.forEach((mark, i) => {
      const option = declared.find((o) => o.name.toLowerCase() === mark[1]!.toLowerCase())!;
      const start = mark.index! + mark[0].length;
      const end = i + 1 < marks.length ? marks[i + 1]!.index! : rest.length;
      options[option.name] = coerce(option, rest.slice(start, end).trim());
    });
  }
  if (free) {
    const slot = declared.find((o) => ((o.type ?? 'string') === 'string' || o.type === 'person') && !(o.name in options));
    if (!slot) throw new DailiesError('bad_input', `/${name} does not take free text; use its options as name:value.`);
    options[slot.name] = coerce(slot, free);
  }
  return { name, options };
}

/** Renders a command event's options back to the line a person would have typed (for "X used /video …"). */
export function formatCommandLine(name: string, options: Record<string, unknown>, commands: readonly CommandHelp[]): string {
  const declared = commands.find((c) => c.name === name)?.options ?? [];
  const main = declared.find((o) => (o.type ?? 'string') === 'string');
  const parts = [`/${name}`];
  if (main && typeof options[main.name] === 'string') parts.push(options[main.name] as string);
  for (const [key, value] of Object.entries(options)) {
    if (key === main?.name && typeof value === 'string') continue;
    if (value === undefined || value === null || typeof value === 'object') continue;
    parts.push(`${key}:${String(value)}`);
  }
  return parts.join(' ');
}
