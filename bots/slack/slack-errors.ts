import { webApi } from '@slack/bolt';
import { DailiesError } from '../../src/errors.ts';
import { REJECTED_TOKEN_MESSAGE } from './config.ts';

const INVITE_HINT = 'invite the app to the channel first (type /invite @dailies there), then try again';

interface SlackErrorShape {
  code?: string;
  data?: { error?: string; needed?: string };
  statusCode?: number;
  retryAfter?: number;
  message?: string;
}

/** The Web API's error string ("not_in_channel"), if `error` is a Slack platform error. */
export function slackErrorName(error: unknown): string | undefined {
  const e = error as SlackErrorShape | null;
  return e?.code === webApi.ErrorCode.PlatformError ? e.data?.error : undefined;
}

/** Turns a failed Web API call into a DailiesError the core can show or retry; `what` completes "Could not …". */
export function fromSlackError(error: unknown, what: string): DailiesError {
  if (error instanceof DailiesError) return error;
  const e = (error ?? {}) as SlackErrorShape;
  switch (e.code) {
    case webApi.ErrorCode.PlatformError: {
      const name = e.data?.error ?? 'unknown_error';
      switch (name) {
        case 'not_in_channel':
        case 'channel_not_found':
          return new DailiesError('forbidden', `Could not ${what}: the app is not in this channel; ${INVITE_HINT}.`, { cause: error });
        case 'is_archived':
          return new DailiesError('conflict', `Could not ${what}: the channel is archived.`, { cause: error });
        case 'message_not_found':
        case 'thread_not_found':
        case 'cant_update_message':
          return new DailiesError('not_found', `Could not ${what}: the message no longer exists on Slack.`, { cause: error });
        case 'invalid_auth':
        case 'not_authed':
        case 'account_inactive':
        case 'token_revoked':
        case 'token_expired':
          return new DailiesError('forbidden', REJECTED_TOKEN_MESSAGE, { cause: error });
        case 'missing_scope':
          return new DailiesError(
            'forbidden',
            `Could not ${what}: the app lacks the ${e.data?.needed ?? 'needed'} scope; add it as in slack-app-manifest.yml and reinstall the app.`,
            { cause: error },
          );
        case 'expired_trigger_id':
        case 'invalid_trigger_id':
          return new DailiesError('conflict', `Could not ${what}: Slack allows 3 seconds to open a form after a click; click again.`, { cause: error });
        case 'ratelimited':
          return new DailiesError('rate_limited', `Could not ${what}: Slack is rate limiting the app; try again shortly.`, { retryable: true, cause: error });
        case 'internal_error':
        case 'fatal_error':
        case 'service_unavailable':
        case 'request_timeout':
          return new DailiesError('unavailable', `Could not ${what}: Slack had a problem (${name}); try again shortly.`, { retryable: true, cause: error });
        default:
          return new DailiesError('internal', `Could not ${what}: Slack answered "${name}".`, { cause: error });
      }
    }
    case webApi.ErrorCode.RateLimitedError:
      return new DailiesError('rate_limited', `Could not ${what}: Slack is rate limiting the app (retry after ${e.retryAfter ?? '?'} s).`, { retryable: true, cause: error });
    case webApi.ErrorCode.HTTPError:
      return new DailiesError('unavailable', `Could not ${what}: Slack answered HTTP ${e.statusCode ?? '?'}; try again shortly.`, { retryable: (e.statusCode ?? 500) >= 500, cause: error });
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return new DailiesError('unavailable', `Could not ${what}: ${message.replace(/\.$/, '')}.`, { retryable: true, cause: error });
    }
  }
}
