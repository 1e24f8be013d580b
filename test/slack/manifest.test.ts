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

  it('asks for the scopes and events the adapter relies on', () => {
    const scopes = manifest.slice(manifest.indexOf('bot:'), manifest.indexOf('settings:')).match(/^\s*- ([a-z:_.]+)$/gm)?.map((l) => l.trim().slice(2));
    expect(scopes?.sort()).toEqual(['app_mentions:read', 'channels:history', 'chat:write', 'commands', 'files:read', 'files:write', 'groups:history', 'users:read']);
    for (const event of ['message.channels', 'message.groups', 'app_mention']) expect(manifest).toContain(`      - ${event}\n`);
    expect(manifest).toMatch(/interactivity:\n\s+is_enabled: true\n\s+request_url: https:\/\/[^/]+\/slack\/events/);
  });
});
