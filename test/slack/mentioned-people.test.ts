import { describe, expect, it } from 'vitest';
import { DEFAULT_COMMAND_SYNTAX, registrySyntax } from '../../bots/slack/command-syntax.ts';
import { keepMentionIds, resolvePeople, takesPeople } from '../../bots/slack/mentioned-people.ts';
import { parseCommandText } from '../../bots/slack/parse-command-text.ts';
import { slackToPlain } from '../../bots/slack/slack-text.ts';
import { commands } from '../../commands/index.ts';

/** How `/block @Ben 2h spamming` reaches the core: the mention's id kept, the name from the directory. */
describe('people named in a Slack command', () => {
  const block = registrySyntax(commands).find((c) => c.name === 'block')!;
  const lookup = async (id: string) => ({ id, name: id === 'U0BEN' ? 'Ben' : id, canModerate: false });
  const read = (text: string) => {
    const parsed = parseCommandText(block, slackToPlain(keepMentionIds(text)));
    if (parsed.kind !== 'options') throw new Error('help');
    return resolvePeople(block, parsed.options, lookup);
  };

  it("reads /block's person from the schema as a mention option, with the table's positional order", () => {
    expect(block.positional).toEqual(['user', 'for', 'reason']);
    expect(block.options.find((o) => o.name === 'user')?.kind).toBe('user');
    expect(DEFAULT_COMMAND_SYNTAX.find((c) => c.name === 'unblock')?.options[0]?.kind).toBe('user');
  });

  it('turns an escaped mention, labelled or not, into the id and the display name', async () => {
    expect(await read('<@U0BEN|ben> 2h spamming renders')).toEqual({ user: { id: 'U0BEN', name: 'Ben' }, for: '2h', reason: 'spamming renders' });
    expect(await read('<@U0BEN> --for 30m')).toEqual({ user: { id: 'U0BEN', name: 'Ben' }, for: '30m' });
    expect(await read('')).toEqual({});
  });

  it('refuses a name typed without the mention in one sentence that says how to mention', async () => {
    await expect(read('ben 2h')).rejects.toThrow("--user must be a mention of one person, such as @Ben: type @ and pick them from Slack's list.");
  });

  it('keeps ids only for commands that take a person, so a prompt keeps its @name', () => {
    expect(takesPeople(registrySyntax(commands).find((c) => c.name === 'video'))).toBe(false);
    expect(takesPeople(block)).toBe(true);
  });
});
