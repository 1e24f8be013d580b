import { z } from 'zod';
import type { CommandHelp, CommandOptionHelp } from './command-line.ts';

/**
 * The web chat's command list, read from the core's registry (commands/index.ts): names,
 * descriptions, and each option's type, choices and requiredness straight from its zod schema,
 * in the schema's order (free text typed after a command fills its first text option, so the
 * order is part of the syntax: `/extend v1#1`, `/storyboard a | b`, `/cut fade`).
 */

type Registry = readonly { name: string; description: string; options: unknown }[];

interface JsonSchemaProperty {
  type?: string;
  properties?: Record<string, unknown>;
  enum?: unknown[];
  anyOf?: JsonSchemaProperty[];
}

/** Where each command makes sense; the page offers only the fitting ones. Unlisted: both. */
const WHERE: Record<string, CommandHelp['where']> = {
  storyboard: 'channel',
  refine: 'thread',
  vary: 'thread',
  extend: 'thread',
  bridge: 'thread',
  cut: 'thread',
  finalize: 'thread',
  status: 'thread',
  cancel: 'thread',
  history: 'thread',
  why: 'thread',
  info: 'thread',
  remove: 'thread',
};

/** Options a handler insists on although their schema lets them be absent (it answers the sentence). */
const NEEDED: Record<string, readonly string[]> = { extend: ['take'], bridge: ['from', 'to'], vary: ['take'], finalize: ['take'], remove: ['take'] };

function optionOf(name: string, p: JsonSchemaProperty, required: boolean): CommandOptionHelp | null {
  // A take reference is text or a number (`v2#1`, `1`): typed, it is text.
  const type = p.type ?? (p.anyOf?.some((a) => a.type === 'string') ? 'string' : undefined);
  // A person ({ id, name }) is typed as a display name.
  if (type === 'object' && p.properties && 'id' in p.properties && 'name' in p.properties) return { name, type: 'person', required };
  if (type !== 'string' && type !== 'integer' && type !== 'number' && type !== 'boolean') return null;
  const choices = Array.isArray(p.enum) && p.enum.every((c) => typeof c === 'string') ? (p.enum as string[]) : undefined;
  return { name, type, required, ...(choices && { choices }) };
}

function jsonSchemaOf(options: unknown): { properties?: Record<string, JsonSchemaProperty>; required?: string[] } {
  return z.toJSONSchema(options as z.ZodType, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchemaProperty>; required?: string[] };
}

export function commandHelpFromRegistry(registry: Registry): CommandHelp[] {
  return registry.map((c) => {
    const schema = jsonSchemaOf(c.options);
    const options = Object.entries(schema.properties ?? {}).flatMap(([name, p]) => {
      const option = optionOf(name, p, (schema.required?.includes(name) ?? false) || (NEEDED[c.name]?.includes(name) ?? false));
      return option ? [option] : [];
    });
    const where = WHERE[c.name];
    return { name: c.name, description: c.description, options, ...(where && { where }) };
  });
}

/**
 * The option of each command that takes an attached image (`/video`'s `image`: an object with a
 * `url`), by command name. A file is not something people type, so it is not in the command list;
 * the web chat fills it from an upload (`"image"` beside the command, ./uploads.ts).
 */
export function imageOptionsFromRegistry(registry: Registry): ReadonlyMap<string, string> {
  const found = new Map<string, string>();
  for (const c of registry) {
    const option = Object.entries(jsonSchemaOf(c.options).properties ?? {}).find(([, p]) => p.type === 'object' && p.properties !== undefined && 'url' in p.properties);
    if (option) found.set(c.name, option[0]);
  }
  return found;
}

/**
 * A list handed in by a hook, completed from the registry: for a command the registry knows, its
 * options as the schema says, in the schema's order (with the hook's description where it gives
 * one), then any option only the hook lists; `where` from the hook when it says. Commands only the hook knows stay as
 * given. So a hook that cannot express an option (JSON Schema has no type for "text or number")
 * does not make it untypeable.
 */
export function completeCommandHelp(given: readonly CommandHelp[], derived: readonly CommandHelp[]): CommandHelp[] {
  return given.map((command) => {
    const known = derived.find((d) => d.name === command.name);
    if (!known) return command;
    const givenOptions = command.options ?? [];
    const options = [
      ...(known.options ?? []).map((o) => {
        const description = givenOptions.find((g) => g.name === o.name)?.description;
        return description ? { ...o, description } : o;
      }),
      ...givenOptions.filter((g) => !(known.options ?? []).some((o) => o.name === g.name)),
    ];
    const where = command.where ?? known.where;
    return { ...command, options, ...(where && { where }) };
  });
}
