import { DiscordAPIError, REST, Routes } from 'discord.js';
import { DailiesError } from '../../src/errors.ts';
import { parseCliArgs } from '../../src/util/cli-args.ts';
import { platformEnvOf } from '../../src/config.ts';
import { buildCommandDefinitions, inviteUrl } from './command-definitions.ts';
import { MISSING_TOKEN_MESSAGE, REJECTED_TOKEN_MESSAGE, loadDiscordConfig } from './config.ts';

const USAGE = `Usage: dailies register [--global] [--print]

Registers the slash commands with Discord (PUT, so the list replaces what was there).
With DISCORD_GUILD_ID set they go to that server and appear at once; otherwise, or with
--global, they are global and can take up to an hour to show everywhere.

  --global   register globally even when DISCORD_GUILD_ID is set
  --print    print the command JSON and exit without calling Discord

Reads DISCORD_TOKEN, DISCORD_APP_ID (default: taken from the token), DISCORD_GUILD_ID, DISCORD_API_URL.`;

/** `dailies register`: returns the process exit code. */
export async function run(
  argv: string[],
  env: Record<string, string | undefined> = platformEnvOf(),
  out: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  const values = parseCliArgs(argv, { global: { type: 'boolean' }, print: { type: 'boolean' } }, { command: 'dailies register' });
  if (values.help) {
    out(USAGE);
    return 0;
  }

  const body = buildCommandDefinitions();
  if (values.print) {
    out(JSON.stringify(body, null, 2));
    return 0;
  }

  const config = loadDiscordConfig(env);
  if (!config.token) throw new DailiesError('missing_dependency', MISSING_TOKEN_MESSAGE);
  if (!config.appId) {
    throw new DailiesError('bad_input', 'DISCORD_APP_ID is not set and could not be read from the token; copy the Application ID from the General Information page.');
  }
  const guildId = values.global ? undefined : config.guildId;
  const rest = new REST(config.apiUrl ? { api: config.apiUrl } : {}).setToken(config.token);
  const route = guildId ? Routes.applicationGuildCommands(config.appId, guildId) : Routes.applicationCommands(config.appId);

  let saved: unknown;
  try {
    saved = await rest.put(route, { body });
  } catch (error) {
    throw explain(error, guildId);
  }
  const count = Array.isArray(saved) ? saved.length : body.length;
  out(
    guildId
      ? `Registered ${count} commands in guild ${guildId}; they are usable now.`
      : `Registered ${count} global commands; Discord may take up to an hour to show them in every server.`,
  );
  out(`Invite the bot with: ${inviteUrl(config.appId)}`);
  return 0;
}

function explain(error: unknown, guildId: string | undefined): unknown {
  if (!(error instanceof DiscordAPIError)) return error;
  if (error.status === 401) return new DailiesError('forbidden', REJECTED_TOKEN_MESSAGE, { cause: error });
  if (error.status === 403 && guildId) {
    return new DailiesError(
      'forbidden',
      `Discord refused to register commands in guild ${guildId}; invite the bot with the applications.commands scope first (see bots/discord/README.md).`,
      { cause: error },
    );
  }
  if (error.status === 400) {
    return new DailiesError('bad_input', `Discord rejected the command list: ${error.message}`, { cause: error });
  }
  return new DailiesError('unavailable', `Registering commands failed (${error.status}): ${error.message}`, { retryable: true, cause: error });
}
