import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.ts';
import { DEFAULT_COMMAND_SYNTAX } from '../../bots/slack/command-syntax.ts';
import { slackWording, slashForm } from '../../bots/slack/command-wording.ts';
import { routeSlashCommand } from '../../bots/slack/slash-command-route.ts';

const wording = slackWording(commands.map((c) => c.name));
const syntax = new Map(DEFAULT_COMMAND_SYNTAX.map((c) => [c.name, c]));

describe('slackWording', () => {
  it('rewrites each registry command but /video into its /dailies form, at word boundaries only', () => {
    expect(wording('wait for one to finish or /cancel one.')).toBe('wait for one to finish or /dailies cancel one.');
    expect(wording('/status')).toBe('/dailies status');
    expect(wording('(/why), "/cut", `/history`, *[/policy]* and /finalize.')).toBe('(/dailies why), "/dailies cut", `/dailies history`, *[/dailies policy]* and /dailies finalize.');
    expect(wording('  /refine    Change the prompt\n  /video     Start')).toBe('  /dailies refine    Change the prompt\n  /video     Start');
    for (const kept of ['/video a boat', 'https://x.test/status', 'renders/cut/1.mp4', '50/50', '/cutaway', '/cut-away', '/teleport', 'and/or /statuses', '@dailies cut fade']) {
      expect(wording(kept), kept).toBe(kept);
    }
  });

  it('is idempotent, and leaves text alone when there are no names to reword', () => {
    const once = wording('type /help, then /cancel');
    expect(wording(once)).toBe(once);
    expect(slackWording([])('/cancel')).toBe('/cancel');
    expect(slackWording(['video'])('/video')).toBe('/video');
  });

  it('names how each command is typed in Slack', () => {
    expect(slashForm('video')).toBe('/video');
    expect(slashForm('status')).toBe('/dailies status');
  });
});

describe('routeSlashCommand', () => {
  it('takes the command from the first word after /dailies, and the old names as themselves', () => {
    expect(routeSlashCommand('/dailies', 'finalize 2', syntax)).toMatchObject({ kind: 'command', syntax: { name: 'finalize' }, text: '2' });
    expect(routeSlashCommand('/dailies', '  Storyboard  a | b --takes 1', syntax)).toMatchObject({ kind: 'command', syntax: { name: 'storyboard' }, text: 'a | b --takes 1' });
    expect(routeSlashCommand('/dailies', 'block <@U1|ben>\n2h', syntax)).toMatchObject({ kind: 'command', syntax: { name: 'block' }, text: '<@U1|ben>\n2h' });
    expect(routeSlashCommand('/video', 'a boat', syntax)).toMatchObject({ kind: 'command', syntax: { name: 'video' }, text: 'a boat' });
    expect(routeSlashCommand('/Cancel', '', syntax)).toMatchObject({ kind: 'command', syntax: { name: 'cancel' } });
    for (const text of ['', '  ', '--help', '-h']) expect(routeSlashCommand('/dailies', text, syntax)).toMatchObject({ kind: 'command', syntax: { name: 'help' }, text: '' });
  });

  it('answers an unknown name with one sentence saying how to list the commands', () => {
    expect(routeSlashCommand('/dailies', 'nosuch 2', syntax)).toEqual({ kind: 'unknown', message: '"nosuch" is not a dailies command; type /dailies help to list them.' });
    expect(routeSlashCommand('/teleport', '', syntax)).toEqual({ kind: 'unknown', message: 'This app has no /teleport command; type /dailies help to list its commands.' });
    const noHelp = new Map([['video', syntax.get('video')!]]);
    expect(routeSlashCommand('/dailies', '', noHelp)).toEqual({ kind: 'unknown', message: 'Type /dailies and a command: video.' });
  });
});
