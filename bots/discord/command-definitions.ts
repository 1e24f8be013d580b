import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  PermissionFlagsBits,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { commands as coreCommands } from '../../commands/index.ts';
import type { CommandDefinition } from '../../src/core/command-context.ts';
import { MAX_PROMPT_CHARS } from '../../src/core/text.ts';
import { truncate } from './outgoing-message.ts';

/**
 * Slash commands, derived from the core's registry (commands/index.ts): which commands and
 * options exist, whether an option is required, and numeric ranges come from each command's zod
 * schema; Discord-only presentation (option descriptions, text lengths, autocomplete, how the
 * adapter acknowledges) comes from the table below. A command the table does not know is still
 * registered, with inferred options.
 */

/** Where suggestions for an autocompleted option come from (see suggestions.ts). */
export type SuggestionKind = 'prompts' | 'takes' | 'take-refs';

/**
 * Discord's cap on a string option's `max_length` (discord-api-docs, Application Command Option
 * Structure: "maximum of 6000"). A storyboard's shots may be longer in the core (12 full prompts);
 * on Discord they fit in 6000 characters, which is still 12 shots of 500.
 */
export const DISCORD_MAX_STRING = 6000;

export type OptionSpec =
  | { kind: 'string'; name: string; description: string; required?: boolean; minLength?: number; maxLength?: number; suggest?: SuggestionKind; choices?: readonly string[] }
  | { kind: 'integer'; name: string; description: string; required?: boolean; min?: number; max?: number; suggest?: SuggestionKind }
  | { kind: 'number'; name: string; description: string; required?: boolean; min?: number; max?: number }
  | { kind: 'boolean'; name: string; description: string; required?: boolean }
  | { kind: 'attachment'; name: string; description: string; required?: boolean }
  | { kind: 'user'; name: string; description: string; required?: boolean };

export interface CommandSpec {
  name: string;
  description: string;
  /**
   * How the adapter acknowledges it. `session`: a public deferred reply that becomes the session
   * message a thread is started from; `ephemeral`: only the caller sees the answer.
   */
  reply: 'session' | 'ephemeral';
  options: readonly OptionSpec[];
}

interface OptionLook {
  description: string;
  /** Discord checks lengths before the core sees the text; the core's own limit is the real one. */
  minLength?: number;
  maxLength?: number;
  suggest?: SuggestionKind;
  /** Discord-side override, for options the core reads as required in its handler. */
  required?: boolean;
}

interface CommandLook {
  reply: 'session' | 'ephemeral';
  options?: Record<string, OptionLook>;
}

const takeOption: OptionLook = { description: 'Which take (1 = first)', required: true, suggest: 'takes' };
/** A take reference (src/core/take-ref.ts): `v2#1`, or a bare take number for the newest version. */
const takeRef = (description: string): OptionLook => ({ description, required: true, minLength: 1, maxLength: 40, suggest: 'take-refs' });

export const DISCORD_LOOK: Record<string, CommandLook> = {
  video: {
    reply: 'session',
    options: {
      prompt: { description: 'What should happen in the clip', minLength: 1, maxLength: MAX_PROMPT_CHARS, suggest: 'prompts' },
      negative: { description: 'What to keep out of the clip', maxLength: MAX_PROMPT_CHARS },
      seed: { description: 'Fix the random seed to get the same clip again' },
      takes: { description: 'How many takes to render' },
      frames: { description: 'Clip length in frames (or use duration)' },
      duration: { description: 'Clip length in seconds (or use frames)' },
      steps: { description: 'Denoising steps: more is slower and finer' },
      guidance: { description: 'How closely to follow the prompt' },
      strength: { description: 'With an image: how far the clip may drift from it (0-1)' },
      image: { description: 'Start from this picture (PNG, JPEG or WebP)' },
      model: { description: 'Render with this model (/models lists them); default: the server\'s', maxLength: 100 },
    },
  },
  refine: {
    reply: 'ephemeral',
    options: { text: { description: 'The change ("on a blue background", "seed: 7", "again") or a new prompt', minLength: 1, maxLength: MAX_PROMPT_CHARS, suggest: 'prompts' } },
  },
  vary: { reply: 'ephemeral', options: { take: takeOption, takes: { description: 'How many variations' } } },
  extend: {
    reply: 'ephemeral',
    options: {
      take: takeRef('Which take: v2#1 is take 1 of version 2; a bare 1 is take 1 of the newest version'),
      frames: { description: 'Frames to add (or use duration)' },
      duration: { description: 'Seconds to add (or use frames); the server caps a video at 60 s by default' },
      direction: { description: 'forward: what happens next (default); backward: what led up to it' },
    },
  },
  bridge: {
    reply: 'ephemeral',
    options: {
      from: takeRef('The take the transition starts from, e.g. v1#1'),
      to: takeRef('The take the transition leads into, e.g. v2#1'),
      duration: { description: 'Seconds of new frames between them (or use frames)' },
      frames: { description: 'New frames between them (or use duration)' },
    },
  },
  storyboard: {
    reply: 'session',
    options: {
      shots: { description: 'The shots, separated by |, e.g. a red circle | a blue square (at most 12)', minLength: 1, maxLength: DISCORD_MAX_STRING },
      style: { description: 'Added to every shot, e.g. pixel art', maxLength: 300 },
      takes: { description: 'Takes per shot' },
      duration: { description: 'Seconds per shot; the whole film is at most 60 s by default' },
      negative: { description: 'What to keep out of every shot', maxLength: MAX_PROMPT_CHARS },
      seed: { description: 'Fix the seed of every shot' },
      model: { description: 'Render every shot with this model (/models lists them)', maxLength: 100 },
    },
  },
  cut: {
    reply: 'ephemeral',
    options: { transition: { description: 'How shots join: cut (default), fade, or a generated bridge' } },
  },
  finalize: { reply: 'ephemeral', options: { take: takeOption } },
  status: { reply: 'ephemeral' },
  cancel: { reply: 'ephemeral' },
  history: { reply: 'ephemeral' },
  quota: { reply: 'ephemeral' },
  gallery: { reply: 'ephemeral' },
  models: { reply: 'ephemeral' },
  settings: {
    reply: 'ephemeral',
    options: {
      takes: { description: 'Your default number of takes' },
      steps: { description: 'Your default denoising steps' },
      duration: { description: 'Your default clip length in seconds' },
      model: { description: 'Your default model (/models lists them)', maxLength: 100 },
      style: { description: 'A clause added to your prompts, e.g. "pixel art"', maxLength: 300 },
      negative: { description: 'Your default negative prompt', maxLength: MAX_PROMPT_CHARS },
      channel: { description: "Moderators: change this channel's defaults instead of yours" },
      clear: { description: 'Defaults to remove: takes, steps, duration, model, style, negative or all', maxLength: 100 },
    },
  },
  policy: { reply: 'ephemeral', options: { action: { description: 'list (default), add or remove' }, term: { description: 'The term to add or remove', maxLength: 60 } } },
  block: {
    reply: 'ephemeral',
    options: {
      user: { description: 'Who to block (leave empty to list who is blocked)' },
      for: { description: 'How long: 30m, 2h, 1d, 7d (at most 90 days)', maxLength: 20 },
      reason: { description: 'Why; the person sees it', maxLength: 200 },
    },
  },
  unblock: { reply: 'ephemeral', options: { user: { description: 'Who to unblock', required: true } } },
  why: { reply: 'ephemeral' },
  info: { reply: 'ephemeral', options: { take: takeRef('The take, e.g. v2#1 (default: take 1 of the newest version)') } },
  remove: { reply: 'ephemeral', options: { take: takeRef('Moderators: the take to remove, e.g. v2#1 (its files are deleted)') } },
  help: { reply: 'ephemeral' },
};

/** What an option's zod schema says once wrappers (preprocess, optional, transforms) are peeled off. */
interface ZodFacts {
  type: string;
  required: boolean;
  /** An enum's values: offered as Discord choices. */
  choices?: readonly string[];
  isInt?: boolean;
  min?: number;
  max?: number;
  shape?: Record<string, unknown>;
}

type ZodLike = {
  _zod: { def: { type: string; in?: ZodLike; out?: ZodLike; innerType?: ZodLike; options?: ZodLike[] } };
  isInt?: boolean;
  minValue?: number | null;
  maxValue?: number | null;
  shape?: Record<string, unknown>;
  options?: unknown[];
};

function zodFacts(schema: unknown, required = true): ZodFacts {
  const s = schema as ZodLike;
  const def = s._zod.def;
  if (def.type === 'pipe' && def.in && def.out) return zodFacts(def.out._zod.def.type === 'transform' ? def.in : def.out, required);
  if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) return zodFacts(def.innerType, false);
  // Text or a number (a take reference: `v2#1` or `1`): Discord can only offer it as text.
  if (def.type === 'union' && def.options?.some((o) => o._zod.def.type === 'string')) return { type: 'string', required };
  if (def.type === 'enum' && Array.isArray(s.options) && s.options.every((o) => typeof o === 'string')) return { type: 'string', required, choices: s.options as string[] };
  const finite = (n: number | null | undefined) => (typeof n === 'number' && Number.isFinite(n) ? n : undefined);
  return {
    type: def.type,
    required,
    ...(s.isInt !== undefined && { isInt: s.isInt }),
    ...(finite(s.minValue) !== undefined && { min: finite(s.minValue) }),
    ...(finite(s.maxValue) !== undefined && { max: finite(s.maxValue) }),
    ...(def.type === 'object' && s.shape && { shape: s.shape }),
  };
}

function optionSpec(name: string, facts: ZodFacts, look: OptionLook | undefined): OptionSpec | undefined {
  const description = truncate(look?.description ?? name, 100);
  const required = look?.required ?? facts.required;
  switch (facts.type) {
    case 'string':
      // Discord shows choices as a menu and allows nothing else; lengths and autocomplete do not apply.
      if (facts.choices) return { kind: 'string', name, description, required, choices: facts.choices };
      return { kind: 'string', name, description, required, minLength: look?.minLength ?? (required ? 1 : undefined), maxLength: look?.maxLength ?? MAX_PROMPT_CHARS, ...(look?.suggest && { suggest: look.suggest }) } as OptionSpec;
    case 'number':
      return facts.isInt
        ? { kind: 'integer', name, description, required, ...(facts.min !== undefined && { min: facts.min }), ...(facts.max !== undefined && { max: facts.max }), ...(look?.suggest && { suggest: look.suggest }) }
        : { kind: 'number', name, description, required, ...(facts.min !== undefined && { min: facts.min }), ...(facts.max !== undefined && { max: facts.max }) };
    case 'boolean':
      return { kind: 'boolean', name, description, required };
    case 'object':
      // The core's object options: an attachment ({ url, filename, contentType, bytes }) and a person ({ id, name }).
      if (facts.shape && 'url' in facts.shape) return { kind: 'attachment', name, description, required };
      return facts.shape && 'id' in facts.shape && 'name' in facts.shape ? { kind: 'user', name, description, required } : undefined;
    default:
      return undefined;
  }
}

/** Builds the Discord view of the core's commands. */
export function commandSpecs(registry: readonly Pick<CommandDefinition, 'name' | 'description' | 'options'>[] = coreCommands): CommandSpec[] {
  return registry.map((command) => {
    const look = DISCORD_LOOK[command.name];
    const shape = zodFacts(command.options).shape ?? {};
    const options = Object.entries(shape)
      .map(([name, schema]) => optionSpec(name, zodFacts(schema), look?.options?.[name]))
      .filter((o): o is OptionSpec => o !== undefined);
    return { name: command.name, description: truncate(command.description, 100), reply: look?.reply ?? 'ephemeral', options };
  });
}

export const COMMAND_SPECS: readonly CommandSpec[] = commandSpecs();

export function findCommandSpec(name: string): CommandSpec | undefined {
  return COMMAND_SPECS.find((c) => c.name === name);
}

/** The JSON Discord's PUT /applications/{app}/commands takes. */
export function buildCommandDefinitions(specs: readonly CommandSpec[] = COMMAND_SPECS): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return specs.map((spec) => ({
    type: ApplicationCommandType.ChatInput,
    name: spec.name,
    description: spec.description,
    // Sessions live in threads, and DMs have none.
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    // Discord rejects a command whose required options follow optional ones.
    options: [...spec.options].sort((a, b) => Number(!!b.required) - Number(!!a.required)).map(optionJson),
  }));
}

function optionJson(o: OptionSpec) {
  const base = { name: o.name, description: o.description, required: o.required ?? false };
  switch (o.kind) {
    case 'string':
      if (o.choices) return { ...base, type: ApplicationCommandOptionType.String as const, choices: o.choices.map((c) => ({ name: c, value: c })) };
      return {
        ...base,
        type: ApplicationCommandOptionType.String as const,
        ...(o.minLength !== undefined && { min_length: o.minLength }),
        ...(o.maxLength !== undefined && { max_length: Math.min(o.maxLength, DISCORD_MAX_STRING) }),
        autocomplete: o.suggest !== undefined,
      };
    case 'integer':
      return {
        ...base,
        type: ApplicationCommandOptionType.Integer as const,
        ...(o.min !== undefined && { min_value: o.min }),
        ...(o.max !== undefined && { max_value: o.max }),
        autocomplete: o.suggest !== undefined,
      };
    case 'number':
      return {
        ...base,
        type: ApplicationCommandOptionType.Number as const,
        ...(o.min !== undefined && { min_value: o.min }),
        ...(o.max !== undefined && { max_value: o.max }),
      };
    case 'boolean':
      return { ...base, type: ApplicationCommandOptionType.Boolean as const };
    case 'attachment':
      return { ...base, type: ApplicationCommandOptionType.Attachment as const };
    case 'user':
      return { ...base, type: ApplicationCommandOptionType.User as const };
  }
}

/**
 * What the bot needs in a channel: see it, post the session message, start a public thread on
 * it, post into the thread, upload clips, let links/embeds render, and read the thread's history.
 */
export const REQUIRED_PERMISSIONS: readonly (keyof typeof PermissionFlagsBits)[] = [
  'ViewChannel',
  'SendMessages',
  'CreatePublicThreads',
  'SendMessagesInThreads',
  'AttachFiles',
  'EmbedLinks',
  'ReadMessageHistory',
];

export function requiredPermissionsInteger(): bigint {
  return REQUIRED_PERMISSIONS.reduce((acc, name) => acc | PermissionFlagsBits[name], 0n);
}

export function inviteUrl(appId: string): string {
  return `https://discord.com/oauth2/authorize?client_id=${appId}&scope=bot%20applications.commands&permissions=${requiredPermissionsInteger()}`;
}
