import { describe, expect, it } from 'vitest';
import { commands as coreCommands } from '../../commands/index.ts';
import { commandHelpFromRegistry, completeCommandHelp } from '../../bots/local/command-help.ts';
import { formatCommandLine, parseCommandLine, type CommandHelp } from '../../bots/local/command-line.ts';

const commands: CommandHelp[] = [
  {
    name: 'video',
    description: 'Start a session.',
    options: [
      { name: 'prompt', required: true },
      { name: 'negative' },
      { name: 'seed', type: 'integer' },
      { name: 'guidance', type: 'number' },
      { name: 'hd', type: 'boolean' },
    ],
  },
  { name: 'cancel', description: 'Cancel.' },
];

describe('parseCommandLine', () => {
  it('puts free text in the first string option', () => {
    expect(parseCommandLine('/video a red circle', commands)).toEqual({ name: 'video', options: { prompt: 'a red circle' } });
    expect(parseCommandLine('  /VIDEO   a red circle  ', commands)).toEqual({ name: 'video', options: { prompt: 'a red circle' } });
  });

  it('reads name:value options and coerces them by type', () => {
    expect(parseCommandLine('/video a cat seed:42 guidance: 7.5 hd:yes negative:blurry, dark', commands)).toEqual({
      name: 'video',
      options: { prompt: 'a cat', seed: 42, guidance: 7.5, hd: true, negative: 'blurry, dark' },
    });
    expect(parseCommandLine('/video prompt:"a dog" seed:abc', commands).options).toEqual({ prompt: 'a dog', seed: 'abc' });
  });

  it('keeps unknown name:value pairs and colons inside the text', () => {
    expect(parseCommandLine('/video ratio:16:9 at 10:30 seed:1', commands).options).toEqual({ prompt: 'ratio:16:9 at 10:30', seed: 1 });
  });

  it('explains unknown commands and stray text in one sentence', () => {
    expect(() => parseCommandLine('/dance', commands)).toThrow(/There is no \/dance command/);
    expect(() => parseCommandLine('hello', commands)).toThrow(/starts with "\/"/);
    expect(() => parseCommandLine('/cancel now please', commands)).toThrow(/does not take free text/);
    expect(parseCommandLine('/cancel', commands)).toEqual({ name: 'cancel', options: {} });
  });

});

describe('the core\'s commands typed in the web chat', () => {
  const registry = commandHelpFromRegistry(coreCommands);
  const parse = (line: string) => parseCommandLine(line, registry);

  it('lists every core command with its options in schema order, their types, choices and where they fit', () => {
    expect(registry.map((c) => c.name)).toEqual(coreCommands.map((c) => c.name));
    const byName = new Map(registry.map((c) => [c.name, c]));
    expect(byName.get('extend')).toMatchObject({
      where: 'thread',
      options: [
        { name: 'take', type: 'string', required: true },
        { name: 'frames', type: 'integer', required: false },
        { name: 'duration', type: 'number', required: false },
        { name: 'direction', type: 'string', required: false, choices: ['forward', 'backward'] },
      ],
    });
    expect(byName.get('bridge')!.options!.slice(0, 2)).toEqual([
      { name: 'from', type: 'string', required: true },
      { name: 'to', type: 'string', required: true },
    ]);
    expect(byName.get('storyboard')).toMatchObject({ where: 'channel', options: [{ name: 'shots', type: 'string', required: true }, { name: 'style' }, { name: 'negative' }, { name: 'takes', type: 'integer' }, { name: 'duration', type: 'number' }, { name: 'seed', type: 'integer' }, { name: 'model', type: 'string' }] });
    expect(byName.get('cut')).toMatchObject({ where: 'thread', options: [{ name: 'transition', choices: ['cut', 'fade', 'bridge'] }] });
    expect(byName.get('video')!.where).toBeUndefined();
    expect(byName.get('video')!.options!.map((o) => o.name)).not.toContain('image');
  });

  it('parses /storyboard, /cut, /bridge and /extend as people type them', () => {
    expect(parse('/storyboard a red circle | a blue square style:pixel art takes:1')).toEqual({ name: 'storyboard', options: { shots: 'a red circle | a blue square', style: 'pixel art', takes: 1 } });
    expect(parse('/storyboard shots:"a | b" duration:4')).toEqual({ name: 'storyboard', options: { shots: 'a | b', duration: 4 } });
    expect(parse('/cut transition:fade')).toEqual({ name: 'cut', options: { transition: 'fade' } });
    expect(parse('/cut bridge')).toEqual({ name: 'cut', options: { transition: 'bridge' } });
    expect(parse('/bridge from:v1#1 to:v2#1')).toEqual({ name: 'bridge', options: { from: 'v1#1', to: 'v2#1' } });
    expect(parse('/bridge v1#1 to:v2#1 duration:2')).toEqual({ name: 'bridge', options: { from: 'v1#1', to: 'v2#1', duration: 2 } });
    expect(parse('/extend take:v1#1 direction:backward duration:4')).toEqual({ name: 'extend', options: { take: 'v1#1', direction: 'backward', duration: 4 } });
    expect(parse('/extend 2')).toEqual({ name: 'extend', options: { take: '2' } });
    expect(parse('/video a kite duration:30')).toEqual({ name: 'video', options: { prompt: 'a kite', duration: 30 } });
  });

  it('completes a hook\'s list from the registry, so options JSON Schema cannot type stay typeable', () => {
    // What a list built with z.toJSONSchema gives: take references ("text or number") have no type and are dropped.
    const given: CommandHelp[] = [
      { name: 'extend', description: 'Make a take longer.', options: [{ name: 'frames', type: 'integer' }, { name: 'duration', type: 'number' }, { name: 'direction', type: 'string', description: 'Which way.' }] },
      { name: 'dance', description: 'Not a core command.', options: [{ name: 'style' }] },
    ];
    const done = completeCommandHelp(given, registry);
    expect(done[0]).toMatchObject({ name: 'extend', description: 'Make a take longer.', where: 'thread' });
    expect(done[0]!.options!.map((o) => o.name)).toEqual(['take', 'frames', 'duration', 'direction']);
    expect(done[0]!.options![3]).toEqual({ name: 'direction', type: 'string', required: false, choices: ['forward', 'backward'], description: 'Which way.' });
    expect(done[1]).toEqual(given[1]);
    expect(parseCommandLine('/extend v1#1 direction:backward', done)).toEqual({ name: 'extend', options: { take: 'v1#1', direction: 'backward' } });
  });
});

describe('formatCommandLine', () => {
  it('writes options back the way a person types them', () => {
    expect(formatCommandLine('video', { prompt: 'a red circle', seed: 42 }, commands)).toBe('/video a red circle seed:42');
    expect(formatCommandLine('cancel', {}, commands)).toBe('/cancel');
  });
});
