import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.ts';

/** The manifest is what an admin installs; it must offer every core command and ask for every scope the adapter uses. */
describe('slack-app-manifest.yml', async () => {
  const manifest = await readFile(new URL('../../slack-app-manifest.yml', import.meta.url), 'utf8');
  const listed = [...manifest.matchAll(/- command: \/([a-z-]+)\s*\n\s*url: (\S+)/g)].map((m) => ({ name: m[1], url: m[2] }));

  it('registers every core command at the one events endpoint', () => {
    expect(listed.map((c) => c.name).sort()).toEqual(commands.map((c) => c.name).sort());
    for (const c of listed) expect(c.url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
  });

  it('is valid YAML where it is easy to get wrong: an unquoted value holds no ": " and no " #"', () => {
    // A plain scalar with ": " is a YAML error (Slack refuses the manifest); " #" starts a comment.
    const plain = [...manifest.matchAll(/^\s*(?:- )?[a-z_]+: (?!["'])(.*\S)\s*$/gm)].map((m) => m[1]!);
    expect(plain.length).toBeGreaterThan(20);
    for (const value of plain) {
      expect(value, value).not.toMatch(/: | #/);
      expect(value, value).not.toMatch(/^[[{&*!|>%@`]/);
    }
    // Quoted values are closed on their line.
    for (const m of manifest.matchAll(/^\s*(?:- )?[a-z_]+: (["'])(.*)$/gm)) expect(m[2]!.endsWith(m[1]!), m[0]).toBe(true);
  });

  it('hints how each film command is typed, in a channel and in a thread', () => {
    const hint = (name: string) => new RegExp(`- command: /${name}\\n(?:\\s+\\w+: .*\\n)*?\\s+usage_hint: (.*)`).exec(manifest)?.[1] ?? '';
    expect(hint('storyboard')).toContain('|');
    expect(hint('storyboard')).toContain('--style');
    expect(hint('extend')).toContain('v2#1');
    expect(hint('extend')).toContain('--direction backward');
    expect(hint('bridge')).toContain('@dailies bridge v1#1 v2#1');
    expect(hint('cut')).toContain('@dailies cut fade');
  });

  it('asks for the scopes and events the adapter relies on', () => {
    const scopes = manifest.slice(manifest.indexOf('bot:'), manifest.indexOf('settings:')).match(/^\s*- ([a-z:_.]+)$/gm)?.map((l) => l.trim().slice(2));
    expect(scopes?.sort()).toEqual(['app_mentions:read', 'channels:history', 'chat:write', 'commands', 'files:read', 'files:write', 'groups:history', 'users:read']);
    for (const event of ['message.channels', 'message.groups', 'app_mention']) expect(manifest).toContain(`      - ${event}\n`);
    expect(manifest).toMatch(/interactivity:\n\s+is_enabled: true\n\s+request_url: https:\/\/[^/]+\/slack\/events/);
  });
});
