/**
 * What the text after a Slack slash command may contain. Slack hands the adapter one string
 * ("a paper boat --takes 4"), so each command needs to say which option the free text fills and
 * which `--options` exist with which type. Commands still validate the values with zod.
 */

/** `user`: a person, typed as a mention (`@Ben`, which Slack sends as `<@U123|ben>`); see mentioned-people.ts. */
export type OptionKind = 'string' | 'integer' | 'number' | 'boolean' | 'user';

export interface OptionSyntax {
  name: string;
  kind: OptionKind;
  required?: boolean;
  description?: string;
}

export interface CommandSyntax {
  name: string;
  description: string;
  /**
   * Options the free text fills, in order; the last one takes the rest of the text
   * (`/extend 2 the boat sinks` -> take 2, prompt "the boat sinks").
   */
  positional?: readonly string[];
  options: readonly OptionSyntax[];
}

const take = (description: string): OptionSyntax => ({ name: 'take', kind: 'integer', required: true, description });
/** A take reference (src/core/take-ref.ts): `v2#1` is take 1 of version 2, a bare `1` take 1 of the newest version. */
const takeRef = (name: string, description: string): OptionSyntax => ({ name, kind: 'string', required: true, description });
const duration = (description: string): OptionSyntax => ({ name: 'duration', kind: 'number', description });
const frames = (description: string): OptionSyntax => ({ name: 'frames', kind: 'integer', description });

/**
 * The commands as Slack users type them, with option descriptions for `--help` and the options
 * free text fills (`positional`). The adapter parses with the core's registry (`registrySyntax`),
 * which takes the descriptions and positional options from here; this table also serves tests
 * and tools that need no core.
 */
export const DEFAULT_COMMAND_SYNTAX: readonly CommandSyntax[] = [
  {
    name: 'video',
    description: 'Start a session: render a short clip from a prompt; refine it in the thread.',
    positional: ['prompt'],
    options: [
      { name: 'prompt', kind: 'string', required: true, description: 'What should happen in the clip' },
      { name: 'takes', kind: 'integer', description: 'How many takes to render (1-4)' },
      { name: 'seed', kind: 'integer', description: 'Fix the random seed to get the same clip again' },
      { name: 'negative', kind: 'string', description: 'What to keep out of the clip' },
      { name: 'steps', kind: 'integer', description: 'Denoising steps (more is slower and finer)' },
      duration('Clip length in seconds, up to the server limit (60 s by default)'),
      frames('Clip length in frames (or use --duration)'),
    ],
  },
  {
    name: 'refine',
    description: 'Change the prompt of a session ("more rain", "no people").',
    positional: ['text'],
    options: [{ name: 'text', kind: 'string', required: true, description: 'The change, or a whole new prompt' }],
  },
  {
    name: 'vary',
    description: 'Render new takes close to one you like.',
    positional: ['take'],
    options: [take('The take to vary'), { name: 'seed', kind: 'integer', description: 'Seed for the variations' }],
  },
  {
    name: 'extend',
    description: 'Make a take longer: what happens next (forward) or what led up to it (backward).',
    positional: ['take'],
    options: [
      takeRef('take', 'The take: v2#1 (take 1 of version 2) or 1 (take 1 of the newest version)'),
      duration('Seconds to add (default: one model window)'),
      frames('Frames to add (or use --duration)'),
      { name: 'direction', kind: 'string', description: 'forward (default) or backward' },
    ],
  },
  {
    name: 'bridge',
    description: 'Join two takes with a generated transition.',
    positional: ['from', 'to'],
    options: [takeRef('from', 'The take it starts from, e.g. v1#1'), takeRef('to', 'The take it leads into, e.g. v2#1'), duration('Seconds of new frames between them'), frames('New frames between them (or use --duration)')],
  },
  {
    name: 'storyboard',
    description: 'Plan a film: shots separated by |, each voted on in one thread, then cut together.',
    positional: ['shots'],
    options: [
      { name: 'shots', kind: 'string', required: true, description: 'The shots, separated by | (at most 12)' },
      { name: 'style', kind: 'string', description: 'Added to every shot, e.g. "pixel art"' },
      { name: 'takes', kind: 'integer', description: 'Takes per shot (1-4)' },
      duration('Seconds per shot; the film is at most 60 s by default'),
      { name: 'negative', kind: 'string', description: 'What to keep out of every shot' },
      { name: 'seed', kind: 'integer', description: 'Fix the seed of every shot' },
    ],
  },
  {
    name: 'cut',
    description: "Assemble a storyboard's film from each shot's winning take.",
    positional: ['transition'],
    options: [{ name: 'transition', kind: 'string', description: 'cut (default), fade or bridge' }],
  },
  {
    name: 'finalize',
    description: 'Render the chosen take at full quality.',
    positional: ['take'],
    options: [take('The take to finish')],
  },
  { name: 'cancel', description: 'Stop the render running in a session.', options: [] },
  { name: 'status', description: "Show the queue and a session's renders.", options: [] },
  { name: 'history', description: "Show a session's prompt versions.", options: [] },
  {
    name: 'policy',
    description: "Moderators: list, add or remove the channel's blocked prompt terms.",
    positional: ['action', 'term'],
    options: [
      { name: 'action', kind: 'string', description: 'list (default), add or remove' },
      { name: 'term', kind: 'string', description: 'The term to add or remove' },
    ],
  },
  {
    name: 'block',
    description: 'Moderators: block a person from dailies for a while, or list who is blocked.',
    positional: ['user', 'for', 'reason'],
    options: [
      { name: 'user', kind: 'user', description: 'Who: a mention, like @Ben (leave out to list who is blocked)' },
      { name: 'for', kind: 'string', description: 'How long: 30m, 2h, 1d or 7d (at most 90 days)' },
      { name: 'reason', kind: 'string', description: 'Why; the person sees it' },
    ],
  },
  {
    name: 'unblock',
    description: 'Moderators: end a block early.',
    positional: ['user'],
    options: [{ name: 'user', kind: 'user', required: true, description: 'Who: a mention, like @Ben' }],
  },
  { name: 'quota', description: "What is left of today's render budget, and when it resets.", options: [] },
  { name: 'why', description: 'Moderators: why the frame check withheld takes here.', options: [] },
  {
    name: 'info',
    description: 'How a take was made: full prompt, seed, steps, model, parent.',
    positional: ['take'],
    options: [takeRef('take', 'The take: v2#1 (take 1 of version 2) or 1 (take 1 of the newest version)')],
  },
  {
    name: 'remove',
    description: 'Moderators: remove a take; its files are deleted and its posts replaced by a note.',
    positional: ['take'],
    options: [takeRef('take', 'The take: v2#1 (take 1 of version 2) or 1 (take 1 of the newest version)')],
  },
  { name: 'help', description: 'How to make clips together.', options: [] },
];

/** Options a command's free text goes to when the core does not say, tried in this order. */
const POSITIONAL_CONVENTION = ['take', 'prompt', 'text'] as const;

interface ZodLike {
  _zod: { def: { type: string; innerType?: ZodLike; in?: ZodLike; out?: ZodLike; shape?: Record<string, ZodLike> } };
  format?: string | null;
  description?: string;
}

/** Steps through a pipe: a preprocess step (transform first) leads to its target, a transform after a schema to the schema. */
function throughPipe(t: ZodLike): ZodLike | undefined {
  const def = t._zod.def;
  if (def.type !== 'pipe') return undefined;
  return def.in?._zod.def.type === 'transform' ? def.out : def.in;
}

function objectShape(schema: unknown): Record<string, ZodLike> | undefined {
  let t = schema as ZodLike | undefined;
  for (let depth = 0; t && depth < 10; depth++) {
    if (t._zod.def.type === 'object') return t._zod.def.shape;
    t = t._zod.def.innerType ?? throughPipe(t);
  }
  return undefined;
}

/**
 * Reads option names and kinds from a command's zod object schema (the core's `commands/`
 * modules export one), so the Slack parser follows the registry without a second table. Object
 * options (attachments) are left out: on Slack those come from files shared with a mention.
 */
export function syntaxFromCommand(command: { name: string; description: string; options: unknown }, positional?: readonly string[]): CommandSyntax {
  const options: OptionSyntax[] = [];
  for (const [name, field] of Object.entries(objectShape(command.options) ?? {})) {
    let t: ZodLike = field;
    let required = true;
    for (let depth = 0; depth < 10; depth++) {
      const def = t._zod.def;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'prefault' || def.type === 'nullable') required = false;
      const next = def.innerType ?? throughPipe(t);
      if (!next) break;
      t = next;
    }
    const base = t._zod.def.type;
    // Object options: a person ({ id, name }) is typed as a mention; attachments come from shared files.
    const shape = t._zod.def.shape;
    if (base === 'object' && !(shape && 'id' in shape && 'name' in shape)) continue;
    const kind: OptionKind =
      base === 'object' ? 'user' : base === 'number' ? (t.format && /int/.test(t.format) ? 'integer' : 'number') : base === 'boolean' ? 'boolean' : 'string';
    options.push({ name, kind, required, description: field.description ?? t.description });
  }
  const names = new Set(options.map((o) => o.name));
  const picked = positional ?? POSITIONAL_CONVENTION.filter((n) => names.has(n)).slice(0, 2);
  // "prompt" and "text" both swallow the rest, so only one of them can be positional.
  const cleaned = picked.filter((n, i) => !(i > 0 && n === 'text' && picked.includes('prompt')));
  return { name: command.name, description: command.description, positional: cleaned, options };
}

/**
 * The syntax of every command in a registry, with the built-in table's positional options and
 * its option descriptions for `--help` where the schema has none.
 */
export function registrySyntax(registry: readonly { name: string; description: string; options: unknown }[]): CommandSyntax[] {
  return registry.map((command) => {
    const known = DEFAULT_COMMAND_SYNTAX.find((k) => k.name === command.name);
    const names = new Set(syntaxFromCommand(command).options.map((o) => o.name));
    // The table knows which options free text fills (`/storyboard a | b`, `/bridge v1#1 v2#1`);
    // the naming convention is the fallback for commands it does not list.
    const positional = known?.positional?.filter((n) => names.has(n));
    const derived = syntaxFromCommand(command, positional);
    return {
      ...derived,
      options: derived.options.map((o) => {
        const k = known?.options.find((x) => x.name === o.name);
        // Options a handler insists on (a take) are optional in their schema; asking at once saves a round trip.
        return { ...o, required: o.required || (k?.required ?? false), description: o.description ?? k?.description };
      }),
    };
  });
}
