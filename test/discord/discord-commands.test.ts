import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { COMMAND_SPECS, DISCORD_LOOK, buildCommandDefinitions, commandSpecs, inviteUrl, requiredPermissionsInteger } from '../../bots/discord/command-definitions.ts';
import { commands as coreCommands } from '../../commands/index.ts';
import { run } from '../../bots/discord/register.ts';
import { DiscordStandIn } from './stand-in/discord-stand-in.ts';

type Option = { type: number; name: string; description: string; required: boolean; min_value?: number; max_value?: number; min_length?: number; max_length?: number; autocomplete?: boolean };

const defs = buildCommandDefinitions();
const option = (command: string, name: string) => (defs.find((d) => d.name === command)!.options as Option[]).find((o) => o.name === name)!;

describe('command definitions', () => {
  test('every core command is registered, and fits Discord\'s rules for chat input commands', () => {
    expect(defs.map((d) => d.name)).toEqual(coreCommands.map((c) => c.name));
    for (const d of defs) {
      expect(d.name).toMatch(/^[-_\p{Ll}\p{N}]{1,32}$/u);
      expect(d.description.length).toBeGreaterThan(0);
      expect(d.description.length).toBeLessThanOrEqual(100);
      expect(d.contexts).toEqual([0]);
      const opts = (d.options ?? []) as Option[];
      expect(opts.length).toBeLessThanOrEqual(25);
      // Required options must come first.
      const firstOptional = opts.findIndex((o) => !o.required);
      if (firstOptional >= 0) expect(opts.slice(firstOptional).every((o) => !o.required)).toBe(true);
      for (const o of opts) {
        expect(o.name).toMatch(/^[-_\p{Ll}\p{N}]{1,32}$/u);
        expect(o.description.length).toBeLessThanOrEqual(100);
        if (o.max_length !== undefined) expect(o.max_length).toBeLessThanOrEqual(6000);
      }
    }
    // Discord's own rule: per command, the names, descriptions and choice values together are at most 4000 characters.
    for (const d of defs) {
      const opts = (d.options ?? []) as (Option & { choices?: { name: string; value: string }[] })[];
      const chars = d.name.length + d.description.length + opts.reduce((n, o) => n + o.name.length + o.description.length + (o.choices ?? []).reduce((m, c) => m + c.name.length + String(c.value).length, 0), 0);
      expect(chars, d.name).toBeLessThanOrEqual(4000);
    }
  });

  test('every core command and option has a Discord description (the table keeps up with the registry)', () => {
    for (const command of coreCommands) {
      const look = DISCORD_LOOK[command.name];
      expect(look, `DISCORD_LOOK.${command.name}`).toBeDefined();
      const spec = COMMAND_SPECS.find((c) => c.name === command.name)!;
      const shape = Object.keys((command.options as unknown as { _zod: { def: { out: { shape: object } } } })._zod.def.out.shape);
      expect(spec.options.map((o) => o.name).sort(), `options of /${command.name}`).toEqual(shape.sort());
      for (const name of shape) expect(look!.options?.[name], `DISCORD_LOOK.${command.name}.options.${name}`).toBeDefined();
    }
  });

  test('ranges come from the core\'s zod schemas; the core accepts both ends and refuses just outside', () => {
    for (const command of coreCommands) {
      const spec = COMMAND_SPECS.find((c) => c.name === command.name)!;
      const sample = (o: (typeof spec.options)[number]) => (o.kind === 'string' && o.suggest === 'take-refs' ? 'v1#1' : 'a fox');
      const base: Record<string, unknown> = Object.fromEntries(spec.options.filter((o) => o.required && o.kind === 'string').map((o) => [o.name, sample(o)]));
      for (const o of spec.options) {
        if ((o.kind !== 'integer' && o.kind !== 'number') || o.min === undefined || o.max === undefined) continue;
        const step = o.kind === 'integer' ? 1 : 0.01;
        expect(command.options.safeParse({ ...base, [o.name]: o.min }).success, `/${command.name} ${o.name}=${o.min}`).toBe(true);
        expect(command.options.safeParse({ ...base, [o.name]: o.max }).success, `/${command.name} ${o.name}=${o.max}`).toBe(true);
        expect(command.options.safeParse({ ...base, [o.name]: o.min - step }).success).toBe(false);
        expect(command.options.safeParse({ ...base, [o.name]: o.max + step }).success).toBe(false);
      }
    }
  });

  test('typed options carry their limits and autocomplete where it helps', () => {
    expect(option('video', 'prompt')).toMatchObject({ type: 3, required: true, min_length: 1, max_length: 1000, autocomplete: true });
    expect(option('video', 'takes')).toMatchObject({ type: 4, min_value: 1, max_value: 4 });
    expect(option('video', 'seed')).toMatchObject({ type: 4, min_value: 0, max_value: 2_147_483_647 });
    expect(option('video', 'image')).toMatchObject({ type: 11, required: false });
    expect(option('video', 'strength')).toMatchObject({ type: 10, min_value: 0, max_value: 1 });
    // The zod bounds; the server's own limit (60 s by default) is the core's to check, with one sentence.
    expect(option('video', 'duration')).toMatchObject({ type: 10, min_value: 0.1, max_value: 600 });
    expect(option('video', 'frames')).toMatchObject({ type: 4, min_value: 1, max_value: 4800 });
    expect(option('refine', 'text')).toMatchObject({ type: 3, required: true, autocomplete: true });
    for (const c of ['finalize', 'vary']) expect(option(c, 'take')).toMatchObject({ type: 4, required: true, min_value: 1, max_value: 4, autocomplete: true });
    expect(COMMAND_SPECS.filter((c) => c.reply === 'session').map((c) => c.name)).toEqual(['video', 'storyboard']);
  });

  test('take references are text with autocomplete; fixed words are choices; a storyboard takes Discord\'s longest text', () => {
    for (const [c, o] of [['extend', 'take'], ['bridge', 'from'], ['bridge', 'to']] as const) {
      expect(option(c, o)).toMatchObject({ type: 3, required: true, min_length: 1, max_length: 40, autocomplete: true });
    }
    expect(option('extend', 'direction')).toEqual({
      type: 3,
      name: 'direction',
      description: expect.any(String),
      required: false,
      choices: [
        { name: 'forward', value: 'forward' },
        { name: 'backward', value: 'backward' },
      ],
    });
    expect(option('cut', 'transition')).toMatchObject({ type: 3, required: false, choices: ['cut', 'fade', 'bridge'].map((c) => ({ name: c, value: c })) });
    expect(option('cut', 'transition')).not.toHaveProperty('autocomplete');
    for (const c of ['extend', 'bridge', 'storyboard']) expect(option(c, 'duration')).toMatchObject({ type: 10, min_value: 0.1, max_value: 600 });
    // discord-api-docs: a string option's max_length is at most 6000.
    expect(option('storyboard', 'shots')).toMatchObject({ type: 3, required: true, min_length: 1, max_length: 6000, autocomplete: false });
    expect(option('storyboard', 'style')).toMatchObject({ type: 3, required: false, max_length: 300 });
    expect(option('storyboard', 'takes')).toMatchObject({ type: 4, min_value: 1, max_value: 4 });
    expect(option('storyboard', 'seed')).toMatchObject({ type: 4, min_value: 0, max_value: 2_147_483_647 });
    expect((defs.find((d) => d.name === 'storyboard')!.options as Option[]).map((o) => o.name)).toEqual(['shots', 'style', 'negative', 'takes', 'duration', 'seed', 'model']);
    expect(option('storyboard', 'model')).toMatchObject({ type: 3, required: false, max_length: 100 });
    expect(option('video', 'model')).toMatchObject({ type: 3, required: false, max_length: 100 });
    expect(defs.find((d) => d.name === 'models')).toMatchObject({ options: [] });
  });

  test('a command the Discord table does not know yet is still registered, with inferred options', async () => {
    const { z } = await import('zod');
    const [spec] = commandSpecs([{ name: 'remix', description: 'x'.repeat(120), options: z.object({ amount: z.number().int().min(2).max(9).optional(), note: z.string() }) }]);
    expect(spec).toEqual({
      name: 'remix',
      description: `${'x'.repeat(99)}…`,
      reply: 'ephemeral',
      options: [
        { kind: 'integer', name: 'amount', description: 'amount', required: false, min: 2, max: 9 },
        { kind: 'string', name: 'note', description: 'note', required: true, minLength: 1, maxLength: 1000 },
      ],
    });
  });

  test('the invite URL asks for exactly the documented permissions, and the README shows the same number', async () => {
    const bits = 1n << 10n | 1n << 11n | 1n << 35n | 1n << 38n | 1n << 15n | 1n << 14n | 1n << 16n;
    expect(requiredPermissionsInteger()).toBe(bits);
    expect(inviteUrl('42')).toBe(`https://discord.com/oauth2/authorize?client_id=42&scope=bot%20applications.commands&permissions=${bits}`);
    const readme = await readFile(new URL('../../bots/discord/README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`permissions=${bits}`);
  });
});

describe('dailies register', () => {
  test('with DISCORD_GUILD_ID it PUTs the list to the guild (instant), with the bot token', async () => {
    const standIn = await DiscordStandIn.start();
    const out: string[] = [];
    try {
      const code = await run([], { DISCORD_TOKEN: standIn.token, DISCORD_APP_ID: standIn.appId, DISCORD_GUILD_ID: standIn.guildId, DISCORD_API_URL: standIn.apiUrl }, (l) => out.push(l));
      expect(code).toBe(0);
      const put = standIn.calls.find((c) => c.method === 'PUT')!;
      expect(put.path).toBe(`/applications/${standIn.appId}/guilds/${standIn.guildId}/commands`);
      expect(put.headers.authorization).toBe(`Bot ${standIn.token}`);
      expect(put.json).toEqual(buildCommandDefinitions());
      expect(out[0]).toBe(`Registered ${coreCommands.length} commands in guild ${standIn.guildId}; they are usable now.`);
      expect(out[1]).toMatch(/^Invite the bot with: https:\/\/discord\.com\/oauth2\/authorize\?client_id=/);
    } finally {
      await standIn.close();
    }
  });

  test('without a guild (or with --global) they are registered globally; the app id may come from the token', async () => {
    const standIn = await DiscordStandIn.start();
    try {
      const env = { DISCORD_TOKEN: standIn.token, DISCORD_GUILD_ID: standIn.guildId, DISCORD_API_URL: standIn.apiUrl };
      expect(await run(['--global'], env, () => undefined)).toBe(0);
      expect(standIn.calls.find((c) => c.method === 'PUT')!.path).toBe(`/applications/${standIn.appId}/commands`);
      expect(standIn.registeredCommands.get('global')).toHaveLength(coreCommands.length);
    } finally {
      await standIn.close();
    }
  });

  test('--print needs no token; a missing token or a rejected one is one clear error', async () => {
    const out: string[] = [];
    expect(await run(['--print'], {}, (l) => out.push(l))).toBe(0);
    expect(JSON.parse(out[0]!)).toEqual(buildCommandDefinitions());
    await expect(run([], {}, () => undefined)).rejects.toThrow(/^DISCORD_TOKEN is not set/);
    const standIn = await DiscordStandIn.start();
    try {
      const wrong = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.wrong';
      await expect(run([], { DISCORD_TOKEN: wrong, DISCORD_API_URL: standIn.apiUrl }, () => undefined)).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^DISCORD_TOKEN was rejected/) });
    } finally {
      await standIn.close();
    }
  });
});
