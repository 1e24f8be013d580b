import { z } from 'zod';
import { DailiesError, describeZodIssues } from '../../src/errors.ts';

/** Said once at start-up; the rest of the app keeps running without Discord. */
export const MISSING_TOKEN_MESSAGE =
  'DISCORD_TOKEN is not set; create a bot at https://discord.com/developers/applications and set DISCORD_TOKEN, or leave it unset to run without Discord.';

export const REJECTED_TOKEN_MESSAGE =
  'DISCORD_TOKEN was rejected by Discord; reset the token on the Bot page at https://discord.com/developers/applications and set DISCORD_TOKEN again, or unset it to run without Discord.';

const snowflake = z.string().regex(/^\d{15,21}$/, 'must be a numeric Discord id (turn on Developer Mode and use "Copy ID")');

// Empty strings come from `KEY=` lines in .env files; treat them as unset, not as invalid.
const blankAsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() : v);

const flag = z.preprocess(
  blankAsUnset,
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
    .optional()
    .transform((v) => v === '1' || v === 'true' || v === 'yes' || v === 'on'),
);

export const discordEnvSchema = z.object({
  DISCORD_TOKEN: z.preprocess(
    (v) => blankAsUnset(trimmed(v)),
    z
      .string()
      // Pasting "Bot xyz" from an Authorization header is a common slip; discord.js strips it too.
      .transform((t) => t.replace(/^(Bot|Bearer)\s+/i, ''))
      .pipe(z.string().regex(/^[\w-]+\.[\w-]+\.[\w-]+$/, 'does not look like a bot token (three dot-separated parts)'))
      .optional(),
  ),
  DISCORD_APP_ID: z.preprocess(blankAsUnset, snowflake.optional()),
  DISCORD_GUILD_ID: z.preprocess(blankAsUnset, snowflake.optional()),
  DISCORD_MESSAGE_CONTENT: flag,
  DISCORD_API_URL: z.preprocess(
    blankAsUnset,
    z
      .url({ protocol: /^https?$/ })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
  ),
});

export interface DiscordConfig {
  /** Undefined means "run without Discord"; start() then rejects with MISSING_TOKEN_MESSAGE. */
  token?: string;
  /** Application id; read from the token when not set (its first part is the bot's user id, which equals the app id). */
  appId?: string;
  /** Registering commands to one guild makes them appear at once; global commands are for production. */
  guildId?: string;
  /** Ask for the privileged MESSAGE_CONTENT intent: plain thread replies (not only @mentions) refine the prompt. */
  messageContent: boolean;
  /** REST base (default https://discord.com/api); gateway discovery follows it through GET /gateway/bot. */
  apiUrl?: string;
}

export function loadDiscordConfig(env: Record<string, string | undefined> = process.env): DiscordConfig {
  const parsed = discordEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new DailiesError('bad_input', describeZodIssues('Discord settings', parsed.error.issues));
  }
  const e = parsed.data;
  return {
    token: e.DISCORD_TOKEN,
    appId: e.DISCORD_APP_ID ?? (e.DISCORD_TOKEN ? appIdFromToken(e.DISCORD_TOKEN) : undefined),
    guildId: e.DISCORD_GUILD_ID,
    messageContent: e.DISCORD_MESSAGE_CONTENT,
    apiUrl: e.DISCORD_API_URL,
  };
}

/** The first token segment is the bot user's id in base64; for bots created since 2020 it equals the application id. */
export function appIdFromToken(token: string): string | undefined {
  const first = token.split('.')[0];
  if (!first) return undefined;
  const id = Buffer.from(first, 'base64').toString('utf8');
  return /^\d{15,21}$/.test(id) ? id : undefined;
}
