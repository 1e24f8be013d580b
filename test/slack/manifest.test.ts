import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/**
 * The manifest is what an admin installs: two slash commands (/video, and /dailies <command> for
 * every other command, so none clashes with Slack's own /status or another app's /help), and
 * every scope the adapter uses.
 */
describe('slack-app-manifest.yml', async () => {
  const manifest = await readFile(new URL('../../slack-app-manifest.yml', import.meta.url), 'utf8');
  const commandBlocks = manifest.slice(manifest.indexOf('  slash_commands:'), manifest.indexOf('oauth_config:'));
  const declared = [...commandBlocks.matchAll(/^\s*- command: (\S+)/gm)].map((m) => m[1]);
  const field = (command: string, key: string) => new RegExp(`- command: ${command}\\n(?:\\s+(?:#.*|\\w+: .*)\\n)*?\\s+${key}: (.*)`).exec(manifest)?.[1] ?? '';

  it('declares exactly two slash commands, /video and /dailies, at the one events endpoint', () => {
    expect(declared).toEqual(['/video', '/dailies']);
    const urls = [...commandBlocks.matchAll(/^\s+url: (\S+)/gm)].map((m) => m[1]);
    expect(urls).toHaveLength(2);
    for (const url of urls) expect(url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
  });

  it('escapes /dailies (so /dailies block @Ben sends the person id) and leaves /video prompts as typed', () => {
    expect(field('/dailies', 'should_escape')).toBe('true');
    expect(field('/video', 'should_escape')).toBe('false');
  });

  it('is valid YAML where it is easy to get wrong: an unquoted value holds no ": " and no " #"', () => {
    // A plain scalar with ": " is a YAML error (Slack refuses the manifest); " #" starts a comment.
    const plain = [...manifest.matchAll(/^\s*(?:- )?[a-z_]+: (?!["'])(.*\S)\s*$/gm)].map((m) => m[1]!);
    expect(plain.length).toBeGreaterThan(15);
    for (const value of plain) {
      expect(value, value).not.toMatch(/: | #/);
      expect(value, value).not.toMatch(/^[[{&*!|>%@`]/);
    }
    // Quoted values are closed on their line.
    for (const m of manifest.matchAll(/^\s*(?:- )?[a-z_]+: (["'])(.*)$/gm)) expect(m[2]!.endsWith(m[1]!), m[0]).toBe(true);
  });

  it('hints how each command is typed: /video with its options, /dailies with help and the thread form', () => {
    expect(field('/video', 'usage_hint')).toContain('--takes');
    expect(field('/dailies', 'usage_hint')).toContain('/dailies help');
    expect(field('/dailies', 'usage_hint')).toContain('@dailies <command>');
  });

  it('asks for the scopes and events the adapter relies on', () => {
    const scopes = manifest.slice(manifest.indexOf('bot:'), manifest.indexOf('settings:')).match(/^\s*- ([a-z:_.]+)$/gm)?.map((l) => l.trim().slice(2));
    expect(scopes?.sort()).toEqual(['app_mentions:read', 'channels:history', 'chat:write', 'commands', 'files:read', 'files:write', 'groups:history', 'users:read']);
    for (const event of ['message.channels', 'message.groups', 'app_mention']) expect(manifest).toContain(`      - ${event}\n`);
    expect(manifest).toMatch(/interactivity:\n\s+is_enabled: true\n\s+request_url: https:\/\/[^/]+\/slack\/events/);
  });
});
