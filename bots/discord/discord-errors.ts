import { DiscordAPIError, HTTPError, RESTJSONErrorCodes } from 'discord.js';
import { DailiesError } from '../../src/errors.ts';
import { redactUrl } from '../../src/redact-url.ts';
import { MISSING_TOKEN_MESSAGE, REJECTED_TOKEN_MESSAGE } from './config.ts';

const PERMISSIONS_HINT =
  'give the bot View Channel, Send Messages, Create Public Threads, Send Messages in Threads, Attach Files and Read Message History there (see bots/discord/README.md)';

/** Turns a failed Discord call into a DailiesError the core can show or retry; `what` completes "Could not …". */
export function fromDiscordError(error: unknown, what: string): DailiesError {
  if (error instanceof DailiesError) return error;
  if (error instanceof DiscordAPIError) {
    switch (error.code) {
      case RESTJSONErrorCodes.MissingPermissions:
      case RESTJSONErrorCodes.MissingAccess:
        return new DailiesError('forbidden', `Could not ${what}: Discord says the bot lacks permission; ${PERMISSIONS_HINT}.`, { cause: error });
      case RESTJSONErrorCodes.UnknownChannel:
      case RESTJSONErrorCodes.UnknownMessage:
        return new DailiesError('not_found', `Could not ${what}: the thread or message no longer exists on Discord.`, { cause: error });
      case RESTJSONErrorCodes.RequestEntityTooLarge:
        return new DailiesError('bad_input', `Could not ${what}: the upload is larger than this server accepts.`, { cause: error });
      case RESTJSONErrorCodes.ThreadAlreadyCreatedForMessage:
        return new DailiesError('conflict', `Could not ${what}: that message already has a thread.`, { cause: error });
      case RESTJSONErrorCodes.ThreadLocked:
      case RESTJSONErrorCodes.InvalidActionOnArchivedThread:
        return new DailiesError('conflict', `Could not ${what}: a moderator locked or archived the thread.`, { cause: error });
    }
    if (error.status === 401) return new DailiesError('forbidden', REJECTED_TOKEN_MESSAGE, { cause: error });
    if (error.status === 429) return new DailiesError('rate_limited', `Could not ${what}: Discord is rate limiting the bot; try again shortly.`, { retryable: true, cause: error });
    return new DailiesError('internal', `Could not ${what}: Discord answered ${error.status} (${error.code}) ${error.message}.`, { cause: error });
  }
  if (error instanceof HTTPError) {
    return new DailiesError('unavailable', `Could not ${what}: Discord answered ${error.status}; try again shortly.`, { retryable: error.status >= 500, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new DailiesError('unavailable', `Could not ${what}: ${message}.`, { retryable: true, cause: error });
}

/** Close codes after which reconnecting cannot help (Discord gateway docs). */
export function fromGatewayClose(code: number): DailiesError {
  switch (code) {
    case 4004:
      return new DailiesError('forbidden', REJECTED_TOKEN_MESSAGE);
    case 4014:
      return new DailiesError(
        'forbidden',
        'Discord refused the Message Content intent (gateway close 4014); enable it under Bot > Privileged Gateway Intents at https://discord.com/developers/applications, or unset DISCORD_MESSAGE_CONTENT: the bot then takes thread replies that @mention it, /refine and the Edit prompt button.',
      );
    case 4013:
      return new DailiesError('internal', 'Discord rejected the gateway intents the bot asked for (close 4013).');
    default:
      return new DailiesError('unavailable', `Discord closed the gateway connection (code ${code}).`, { retryable: true });
  }
}

/** Login failures: discord.js reports a 401 on GET /gateway/bot as TokenInvalid. */
export function fromLoginError(error: unknown, apiUrl: string): DailiesError {
  if (error instanceof DailiesError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'TokenInvalid') return new DailiesError('forbidden', REJECTED_TOKEN_MESSAGE, { cause: error });
  if (code === 'TokenMissing') return new DailiesError('missing_dependency', MISSING_TOKEN_MESSAGE, { cause: error });
  if (error instanceof DiscordAPIError && error.status === 401) return new DailiesError('forbidden', REJECTED_TOKEN_MESSAGE, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new DailiesError('unavailable', `Could not connect to Discord at ${redactUrl(apiUrl)}: ${message}.`, { retryable: true, cause: error });
}

/** The interaction expired (> 3 s before the first answer, or > 15 min) or was already answered: nothing left to say to it. */
export function isStaleInteraction(error: unknown): boolean {
  return (
    error instanceof DiscordAPIError &&
    (error.code === RESTJSONErrorCodes.UnknownInteraction ||
      error.code === RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged ||
      error.code === RESTJSONErrorCodes.UnknownWebhook)
  );
}
