import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_COMMAND_SYNTAX, syntaxFromCommand, type CommandSyntax } from '../../bots/slack/command-syntax.ts';
import { commandUsage, formatCommandText, parseCommandText } from '../../bots/slack/parse-command-text.ts';
import { DailiesError } from '../../src/errors.ts';

const syntax = (name: string): CommandSyntax => DEFAULT_COMMAND_SYNTAX.find((c) => c.name === name)!;
const video = syntax('video');

function refusal(s: CommandSyntax, text: string): string {
  try {
    parseCommandText(s, text);
  } catch (error) {
    expect(error).toBeInstanceOf(DailiesError);
    expect((error as DailiesError).code).toBe('bad_input');
    return (error as DailiesError).message;
  }
  throw new Error(`"${text}" was accepted`);
}

describe('parseCommandText', () => {
  it('reads free text and typed options', () => {
    expect(parseCommandText(video, 'a paper boat in the rain --takes 4 --seed 7 --negative "blurry" --steps 12')).toEqual({
      kind: 'options',
      options: { prompt: 'a paper boat in the rain', takes: 4, seed: 7, negative: 'blurry', steps: 12 },
    });
  });

  it('takes options anywhere, with = and with typographic quotes or dashes', () => {
    const r = parseCommandText(video, '--takes=2 a fox —seed 9 --negative=“dark, grainy” at dawn');
    expect(r).toEqual({ kind: 'options', options: { takes: 2, seed: 9, negative: 'dark, grainy', prompt: 'a fox at dawn' } });
  });

  it('keeps quotes inside the prompt and unquotes a fully quoted one', () => {
    expect(parseCommandText(video, 'a sign that says "open" --takes 1')).toEqual({ kind: 'options', options: { takes: 1, prompt: 'a sign that says "open"' } });
    expect(parseCommandText(video, '"a cat --takes 4 forever"')).toEqual({ kind: 'options', options: { prompt: 'a cat --takes 4 forever' } });
    expect(parseCommandText(video, "it's a dog's life")).toEqual({ kind: 'options', options: { prompt: "it's a dog's life" } });
  });

  it('treats everything after a bare -- as text, and prose dashes as text', () => {
    expect(parseCommandText(video, '--seed 3 -- waves --loop forever')).toEqual({ kind: 'options', options: { seed: 3, prompt: 'waves --loop forever' } });
    expect(parseCommandText(video, 'a storm —slowly building')).toEqual({ kind: 'options', options: { prompt: 'a storm —slowly building' } });
  });

  it('fills several positional options in order', () => {
    expect(parseCommandText(syntax('bridge'), 'v1#1 v2#3 --duration 1.5')).toEqual({ kind: 'options', options: { from: 'v1#1', to: 'v2#3', duration: 1.5 } });
    expect(parseCommandText(syntax('finalize'), '3')).toEqual({ kind: 'options', options: { take: 3 } });
  });

  it('answers --help with usage and never runs the command', () => {
    const r = parseCommandText(video, 'a boat --help');
    expect(r.kind).toBe('help');
    expect(r.kind === 'help' && r.text).toContain('Usage: /video <prompt> [--takes <whole number>]');
    expect(parseCommandText(syntax('status'), '-h').kind).toBe('help');
  });

  it('refuses unknown options with a suggestion', () => {
    expect(refusal(video, 'a boat --take 3')).toBe('/video has no --take option; did you mean --takes?');
    expect(refusal(video, 'a boat --fps 30')).toBe('/video has no --fps option; it knows --prompt, --takes, --seed, --negative, --steps, --duration, --frames (try /video --help).');
    expect(refusal(syntax('status'), '--verbose')).toBe('/status takes no options; remove --verbose.');
  });

  it('refuses bad values, missing values, repeats and stray text, one sentence each', () => {
    expect(refusal(video, 'a boat --takes four')).toBe('--takes must be a whole number, not "four".');
    expect(refusal(video, 'a boat --seed')).toBe('--seed needs a value, like --seed 4.');
    expect(refusal(video, 'a boat --seed --takes 2')).toBe('--seed needs a value, like --seed 4.');
    expect(refusal(video, 'a boat --seed 1 --seed 2')).toBe('--seed is given twice; keep one.');
    expect(refusal(video, '--takes 2')).toBe('/video needs a prompt; usage: /video <prompt> [--takes <whole number>] [--seed <whole number>] [--negative "<text>"] [--steps <whole number>] [--duration <number>] [--frames <whole number>].');
    expect(refusal(video, 'a boat --prompt "a ship"')).toBe('Give the prompt either as text or as --prompt, not both.');
    expect(refusal(syntax('cancel'), 'now please')).toBe('/cancel takes no text; remove "now please" (try /cancel --help).');
    expect(refusal(video, 'a boat --negative "blurry')).toMatch(/^A quote opened before "blurry" is never closed/);
    for (const m of [refusal(video, 'x --take 1'), refusal(video, 'x --takes 1.5')]) expect(m.split(/[.?!]\s/).length).toBe(1);
  });

  it('round-trips through formatCommandText', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['video', { prompt: 'a paper boat', takes: 4, seed: 7, negative: 'blurry, "soft"', steps: 12 }],
      ['video', { prompt: '--weird start', takes: 1 }],
      ['video', { prompt: 'two  spaces and a --takes inside' }],
      ['extend', { take: 'v2#1', direction: 'backward', duration: 4 }],
      ['bridge', { from: 'v1#1', to: '2' }],
      ['storyboard', { shots: 'a red circle | a blue square', style: 'pixel art', takes: 1 }],
      ['storyboard', { shots: 'a kite --loop | "a boat"', duration: 2.5 }],
      ['cut', { transition: 'fade' }],
      ['refine', { text: 'more rain' }],
      ['status', {}],
    ];
    for (const [name, options] of cases) {
      const s = syntax(name);
      expect(parseCommandText(s, formatCommandText(s, options))).toEqual({ kind: 'options', options });
    }
  });
});

describe('the film commands in Slack syntax', () => {
  it('reads a storyboard\'s shots as its free text, | and spaces included; quotes keep a -- in a shot', () => {
    const storyboard = syntax('storyboard');
    expect(parseCommandText(storyboard, 'a red circle | a blue square --style "pixel art" --takes 1 --duration 4')).toEqual({
      kind: 'options',
      options: { shots: 'a red circle | a blue square', style: 'pixel art', takes: 1, duration: 4 },
    });
    expect(parseCommandText(storyboard, '--style=“pixel art” a red circle|a blue square')).toEqual({ kind: 'options', options: { style: 'pixel art', shots: 'a red circle|a blue square' } });
    expect(parseCommandText(storyboard, '"a kite --loop | a boat" --seed 3')).toEqual({ kind: 'options', options: { shots: 'a kite --loop | a boat', seed: 3 } });
    expect(parseCommandText(storyboard, '--seed 3 -- a kite --loop | a boat')).toEqual({ kind: 'options', options: { seed: 3, shots: 'a kite --loop | a boat' } });
    expect(refusal(storyboard, '--style "pixel art"')).toBe('/storyboard needs its shots, separated by |; usage: /storyboard <shots> [--style "<text>"] [--takes <whole number>] [--duration <number>] [--negative "<text>"] [--seed <whole number>].');
  });

  it('reads take references as text: /extend v2#1, /bridge v1#1 v2#1, and the transition of /cut', () => {
    expect(parseCommandText(syntax('extend'), 'v2#1 --direction backward --duration 4')).toEqual({ kind: 'options', options: { take: 'v2#1', direction: 'backward', duration: 4 } });
    expect(parseCommandText(syntax('extend'), '1')).toEqual({ kind: 'options', options: { take: '1' } });
    expect(refusal(syntax('extend'), '--direction backward')).toMatch(/^\/extend needs a take; usage: \/extend <take> /);
    expect(refusal(syntax('bridge'), 'v1#1')).toMatch(/^\/bridge needs the take to lead into; usage: \/bridge <from> <to> /);
    expect(parseCommandText(syntax('cut'), 'fade')).toEqual({ kind: 'options', options: { transition: 'fade' } });
    expect(parseCommandText(syntax('cut'), '')).toEqual({ kind: 'options', options: {} });
  });
});

describe('syntaxFromCommand', () => {
  it('reads option names, kinds and requiredness from a zod object', () => {
    const s = syntaxFromCommand({
      name: 'video',
      description: 'Start a session',
      options: z.object({
        prompt: z.string().min(1),
        takes: z.coerce.number().int().min(1).max(4).default(2),
        guidance: z.number().optional(),
        negativePrompt: z.string().optional(),
        loop: z.boolean().optional(),
      }),
    });
    expect(s.positional).toEqual(['prompt']);
    expect(s.options).toEqual([
      { name: 'prompt', kind: 'string', required: true, description: undefined },
      { name: 'takes', kind: 'integer', required: false, description: undefined },
      { name: 'guidance', kind: 'number', required: false, description: undefined },
      { name: 'negativePrompt', kind: 'string', required: false, description: undefined },
      { name: 'loop', kind: 'boolean', required: false, description: undefined },
    ]);
    expect(parseCommandText(s, 'a kite --negative-prompt fog --loop --guidance 7.5')).toEqual({
      kind: 'options',
      options: { prompt: 'a kite', negativePrompt: 'fog', loop: true, guidance: 7.5 },
    });
    expect(commandUsage(s)).toBe('/video <prompt> [--takes <whole number>] [--guidance <number>] [--negativePrompt "<text>"] [--loop]');
  });
});

describe('registrySyntax', () => {
  it('follows the core command registry, so every core option can be typed', async () => {
    const { commands } = await import('../../commands/index.ts');
    const { registrySyntax } = await import('../../bots/slack/command-syntax.ts');
    const byName = new Map(registrySyntax(commands).map((s) => [s.name, s]));
    expect([...byName.keys()]).toEqual(commands.map((c) => c.name));
    expect(parseCommandText(byName.get('video')!, 'a kite --frames 16 --guidance 7.5 --takes 2')).toEqual({
      kind: 'options',
      options: { prompt: 'a kite', frames: 16, guidance: 7.5, takes: 2 },
    });
    expect(parseCommandText(byName.get('finalize')!, '2')).toEqual({ kind: 'options', options: { take: 2 } });
    expect(parseCommandText(byName.get('refine')!, 'seed: 7')).toEqual({ kind: 'options', options: { text: 'seed: 7' } });
    expect(byName.get('video')!.options.find((o) => o.name === 'image')).toBeUndefined();
    expect(byName.get('video')!.options.find((o) => o.name === 'takes')?.description).toBe('How many takes to render (1-4)');
    // Free text fills what the table says it fills, and a take the handler insists on is asked for at once.
    expect(parseCommandText(byName.get('storyboard')!, 'a | b --takes 1')).toEqual({ kind: 'options', options: { shots: 'a | b', takes: 1 } });
    expect(parseCommandText(byName.get('bridge')!, 'v1#1 v1#2')).toEqual({ kind: 'options', options: { from: 'v1#1', to: 'v1#2' } });
    expect(parseCommandText(byName.get('extend')!, 'v1#1 --direction backward --duration 4')).toEqual({ kind: 'options', options: { take: 'v1#1', direction: 'backward', duration: 4 } });
    expect(parseCommandText(byName.get('cut')!, 'fade')).toEqual({ kind: 'options', options: { transition: 'fade' } });
    expect(byName.get('extend')!.options.find((o) => o.name === 'take')).toMatchObject({ kind: 'string', required: true });
  });
});
