import { describe, expect, it } from 'vitest';
import { DEFAULT_COMMAND_HELP, formatCommandLine, parseCommandLine, type CommandHelp } from '../../bots/local/command-line.ts';

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

  it('works with the built-in list before the core provides one', () => {
    expect(parseCommandLine('/video x', DEFAULT_COMMAND_HELP)).toEqual({ name: 'video', options: { prompt: 'x' } });
  });
});

describe('formatCommandLine', () => {
  it('writes options back the way a person types them', () => {
    expect(formatCommandLine('video', { prompt: 'a red circle', seed: 42 }, commands)).toBe('/video a red circle seed:42');
    expect(formatCommandLine('cancel', {}, commands)).toBe('/cancel');
  });
});
