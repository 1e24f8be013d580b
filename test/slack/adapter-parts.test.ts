import { describe, expect, it } from 'vitest';
import { DEFAULT_COMMAND_SYNTAX } from '../../bots/slack/command-syntax.ts';
import { EditQueue } from '../../bots/slack/edit-queue.ts';
import { readMention } from '../../bots/slack/read-mention.ts';
import { RecentIds } from '../../bots/slack/recent-ids.ts';
import { markdownToMrkdwn, slackToPlain } from '../../bots/slack/slack-text.ts';

describe('slack text', () => {
  it('reads Slack-escaped input as plain text', () => {
    expect(slackToPlain('a &lt;b&gt; &amp; <https://x.test/a|link> <@U1> <#C1|general> <!here> <https://y.test>')).toBe('a <b> & link @U1 #general @here https://y.test');
  });
  it('writes Markdown links as mrkdwn links and escapes the rest', () => {
    expect(markdownToMrkdwn('see [the clip](https://x.test/c?a=1&b=2) ~~old~~ <@U1>')).toBe('see <https://x.test/c?a=1&amp;b=2|the clip> ~old~ &lt;@U1&gt;');
  });
});

describe('RecentIds', () => {
  it('tells new, same-owner and other-owner claims apart within the ttl, and forgets beyond the cap', () => {
    let now = 0;
    const ids = new RecentIds(1000, 2, () => now);
    expect(ids.claim('a', 'ev1')).toBe('new');
    expect(ids.claim('a', 'ev1')).toBe('same');
    expect(ids.claim('a', 'ev2')).toBe('other');
    now = 1001;
    expect(ids.claim('a', 'ev2')).toBe('new');
    ids.claim('b');
    ids.claim('c');
    expect(ids.size).toBe(2);
    expect(ids.has('a')).toBe(false);
    expect(ids.claim('a')).toBe('new');
  });
});

describe('EditQueue', () => {
  it('spaces edits to one message and lets the newest replace a waiting one', async () => {
    const q = new EditQueue(80);
    const applied: string[] = [];
    const started: number[] = [];
    const edit = (v: string) => q.submit('m', async () => {
      started.push(Date.now());
      applied.push(v);
    });
    await Promise.all([edit('1'), edit('2'), edit('3')]);
    expect(applied).toEqual(['1', '3']);
    expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(70);
  });
});

describe('readMention', () => {
  it('reads a command name, a refinement in a session, or a prompt outside one', () => {
    const commands = new Map(DEFAULT_COMMAND_SYNTAX.map((c) => [c.name, c]));
    expect(readMention('finalize 2', commands, true, false)).toEqual({ kind: 'command', name: 'finalize', options: { take: 2 } });
    expect(readMention('/vary 1 --seed 3', commands, true, false)).toEqual({ kind: 'command', name: 'vary', options: { take: 1, seed: 3 } });
    expect(readMention('more rain', commands, true, false)).toEqual({ kind: 'reply', text: 'more rain' });
    expect(readMention('', commands, true, true)).toEqual({ kind: 'reply', text: '' });
    expect(readMention('', commands, true, false)).toEqual({ kind: 'nothing' });
    expect(readMention('a kite --takes 2', commands, false, false)).toEqual({ kind: 'command', name: 'video', options: { prompt: 'a kite', takes: 2 } });
    expect(readMention('', commands, false, true)).toEqual({ kind: 'needs-prompt' });
    expect(readMention('status --help', commands, false, false).kind).toBe('help');
    expect(() => readMention('a kite --fps 3', commands, false, false)).toThrow(/no --fps option/);
  });
});
