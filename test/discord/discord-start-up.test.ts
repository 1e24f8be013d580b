import { describe, expect, test } from 'vitest';
import { DiscordAdapter } from '../../bots/discord/discord-adapter.ts';
import { MISSING_TOKEN_MESSAGE, REJECTED_TOKEN_MESSAGE, appIdFromToken, loadDiscordConfig } from '../../bots/discord/config.ts';
import { captureLogger, startRig, type LogLine } from './discord-harness.ts';
import { DiscordStandIn } from './stand-in/discord-stand-in.ts';

const noCore = async () => ({});

describe('start-up', () => {
  test('a missing token rejects start() with one clear DailiesError, without touching the network', async () => {
    const adapter = new DiscordAdapter({ env: { DISCORD_TOKEN: '' } });
    const started = adapter.start(noCore);
    await expect(started).rejects.toMatchObject({ name: 'DailiesError', code: 'missing_dependency' });
    await expect(started).rejects.toThrow(MISSING_TOKEN_MESSAGE);
    expect(MISSING_TOKEN_MESSAGE).toBe(
      'DISCORD_TOKEN is not set; create a bot at https://discord.com/developers/applications and set DISCORD_TOKEN, or leave it unset to run without Discord.',
    );
    // The caller logs it and carries on; stop() is harmless.
    await expect(adapter.stop()).resolves.toBeUndefined();
  });

  test('a malformed token is refused by the settings check', async () => {
    const adapter = new DiscordAdapter({ env: { DISCORD_TOKEN: 'not-a-token' } });
    await expect(adapter.start(noCore)).rejects.toThrow(/DISCORD_TOKEN does not look like a bot token/);
  });

  test('a token Discord rejects (401 on GET /gateway/bot) gives the rejected-token error; the process keeps going', async () => {
    const standIn = await DiscordStandIn.start({ token: 'MTExMTExMTExMTExMTExMTEx.AAAAAA.right-token' });
    const logs: LogLine[] = [];
    try {
      const adapter = new DiscordAdapter({
        config: { token: 'MTExMTExMTExMTExMTExMTEx.AAAAAA.wrong-token', messageContent: false, apiUrl: standIn.apiUrl },
        logger: captureLogger(logs),
      });
      const started = adapter.start(noCore);
      await expect(started).rejects.toMatchObject({ name: 'DailiesError', code: 'forbidden' });
      await expect(started).rejects.toThrow(REJECTED_TOKEN_MESSAGE);
      expect(standIn.calls.map((c) => `${c.status} ${c.method} ${c.path}`)).toEqual(['401 GET /gateway/bot']);
      expect(standIn.gateway.identifies).toBe(0);
    } finally {
      await standIn.close();
    }
  });

  test('asking for an unapproved MESSAGE_CONTENT intent (close 4014) explains how to fix it', async () => {
    const standIn = await DiscordStandIn.start({ messageContentApproved: false });
    try {
      const adapter = new DiscordAdapter({
        config: { token: standIn.token, messageContent: true, apiUrl: standIn.apiUrl },
        logger: captureLogger([]),
        readyTimeoutMs: 10_000,
      });
      const started = adapter.start(noCore);
      await expect(started).rejects.toMatchObject({ code: 'forbidden' });
      await expect(started).rejects.toThrow(/Message Content intent \(gateway close 4014\).*unset DISCORD_MESSAGE_CONTENT/);
      expect(standIn.gateway.closeCodes).toEqual([4014]);
    } finally {
      await standIn.close();
    }
  });

  test('intents are Guilds + GuildMessages, plus MessageContent only when asked for', async () => {
    const rig = await startRig({ messageContent: false });
    expect(rig.standIn.gateway.lastIntents).toBe((1 << 0) | (1 << 9));
    await rig.close();
    const withContent = await startRig({ messageContent: true });
    expect(withContent.standIn.gateway.lastIntents).toBe((1 << 0) | (1 << 9) | (1 << 15));
    await withContent.close();
  });
});

describe('settings', () => {
  const token = `${Buffer.from('123456789012345678').toString('base64').replace(/=+$/, '')}.GaBcDe.secret_part-1`;

  test('reads and normalises DISCORD_* variables', () => {
    expect(
      loadDiscordConfig({
        DISCORD_TOKEN: ` Bot ${token} `,
        DISCORD_GUILD_ID: '876543210987654321',
        DISCORD_MESSAGE_CONTENT: '1',
        DISCORD_API_URL: 'http://127.0.0.1:9999/api/',
      }),
    ).toEqual({ token, appId: '123456789012345678', guildId: '876543210987654321', messageContent: true, apiUrl: 'http://127.0.0.1:9999/api' });
  });

  test('blank values are unset; DISCORD_APP_ID wins over the token', () => {
    expect(loadDiscordConfig({ DISCORD_TOKEN: '', DISCORD_MESSAGE_CONTENT: '', DISCORD_APP_ID: '' })).toEqual({
      token: undefined,
      appId: undefined,
      guildId: undefined,
      messageContent: false,
      apiUrl: undefined,
    });
    expect(loadDiscordConfig({ DISCORD_TOKEN: token, DISCORD_APP_ID: '222222222222222222' }).appId).toBe('222222222222222222');
    expect(appIdFromToken(token)).toBe('123456789012345678');
  });

  test('bad values name the variable', () => {
    expect(() => loadDiscordConfig({ DISCORD_GUILD_ID: 'general' })).toThrow(/DISCORD_GUILD_ID must be a numeric Discord id/);
    expect(() => loadDiscordConfig({ DISCORD_MESSAGE_CONTENT: 'maybe' })).toThrow(/DISCORD_MESSAGE_CONTENT/);
    expect(() => loadDiscordConfig({ DISCORD_API_URL: 'ftp://x' })).toThrow(/DISCORD_API_URL/);
  });
});
