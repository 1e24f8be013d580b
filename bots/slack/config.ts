import { z } from 'zod';
import { DailiesError, describeZodIssues } from '../../src/errors.ts';

/** Said once at start-up; the rest of the app keeps running without Slack. */
export const MISSING_TOKEN_MESSAGE =
  'SLACK_BOT_TOKEN is not set; create the app from slack-app-manifest.yml at https://api.slack.com/apps, install it and set SLACK_BOT_TOKEN (xoxb-…), or leave SLACK_* unset to run without Slack.';

export const MISSING_SECRET_MESSAGE =
  'SLACK_SIGNING_SECRET is not set; copy it from Basic Information > App Credentials at https://api.slack.com/apps, or set SLACK_APP_TOKEN (xapp-…) to use Socket Mode instead.';

export const REJECTED_TOKEN_MESSAGE =
  'SLACK_BOT_TOKEN was rejected by Slack; reinstall the app to the workspace and copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions, or unset it to run without Slack.';

export const REJECTED_APP_TOKEN_MESSAGE =
  'SLACK_APP_TOKEN was rejected by Slack; create an app-level token with the connections:write scope under Basic Information at https://api.slack.com/apps, or unset it to receive requests over HTTP instead.';

/** Slack's own cap per file; far more than a chat clip needs, so the default is lower. */
export const SLACK_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

// Empty strings come from `KEY=` lines in .env files; treat them as unset, not as invalid.
const blankAsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const trimmedOrUnset = (v: unknown) => blankAsUnset(typeof v === 'string' ? v.trim() : v);

const secretLike = (prefix: string, what: string) =>
  z.preprocess(
    trimmedOrUnset,
    z
      .string()
      // Pasting "Bearer xoxb-…" from an Authorization header is a common slip.
      .transform((t) => t.replace(/^Bearer\s+/i, ''))
      .pipe(z.string().regex(new RegExp(`^${prefix}-[A-Za-z0-9-]+$`), `does not look like ${what} (it starts with "${prefix}-")`))
      .optional(),
  );

export const slackEnvSchema = z.object({
  SLACK_BOT_TOKEN: secretLike('xoxb', 'a bot token'),
  SLACK_SIGNING_SECRET: z.preprocess(
    trimmedOrUnset,
    z.string().regex(/^[A-Za-z0-9]{16,128}$/, 'does not look like a signing secret (letters and digits from Basic Information > App Credentials)').optional(),
  ),
  SLACK_APP_TOKEN: secretLike('xapp', 'an app-level token'),
  SLACK_PORT: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(65535).default(3000)),
  /** Interface the HTTP receiver binds to; unset listens on all of them (Slack must reach it through a proxy). */
  SLACK_HOST: z.preprocess(trimmedOrUnset, z.string().optional()),
  SLACK_API_URL: z.preprocess(
    trimmedOrUnset,
    z
      .url({ protocol: /^https?$/ })
      // WebClient appends the method name to this base, so it must end in "/".
      .transform((u) => (u.endsWith('/') ? u : `${u}/`))
      .optional(),
  ),
  SLACK_MAX_UPLOAD_MB: z.preprocess(blankAsUnset, z.coerce.number().positive().max(SLACK_MAX_UPLOAD_BYTES / (1024 * 1024)).optional()),
});

export interface SlackConfig {
  botToken: string;
  /** Absent only in Socket Mode, where Slack authenticates the WebSocket instead of signing requests. */
  signingSecret?: string;
  /** Set means Socket Mode: no public URL needed. */
  appToken?: string;
  port: number;
  host?: string;
  /** Web API base, e.g. http://127.0.0.1:4000/api/ for a stand-in; default https://slack.com/api/. */
  apiUrl?: string;
  maxUploadBytes: number;
}

/** Validates SLACK_*; every problem becomes one DailiesError sentence for the start-up log. */
export function loadSlackConfig(env: Record<string, string | undefined> = process.env): SlackConfig {
  const parsed = slackEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new DailiesError('bad_input', `${describeZodIssues('Slack settings', parsed.error.issues)} Fix it and restart, or unset SLACK_* to run without Slack.`);
  }
  const e = parsed.data;
  if (!e.SLACK_BOT_TOKEN) throw new DailiesError('missing_dependency', MISSING_TOKEN_MESSAGE);
  if (!e.SLACK_APP_TOKEN && !e.SLACK_SIGNING_SECRET) throw new DailiesError('missing_dependency', MISSING_SECRET_MESSAGE);
  return {
    botToken: e.SLACK_BOT_TOKEN,
    signingSecret: e.SLACK_SIGNING_SECRET,
    appToken: e.SLACK_APP_TOKEN,
    port: e.SLACK_PORT,
    host: e.SLACK_HOST,
    apiUrl: e.SLACK_API_URL,
    maxUploadBytes: e.SLACK_MAX_UPLOAD_MB !== undefined ? Math.floor(e.SLACK_MAX_UPLOAD_MB * 1024 * 1024) : DEFAULT_MAX_UPLOAD_BYTES,
  };
}

/** True when any SLACK_* credential is set: the caller can skip Slack quietly otherwise. */
export function isSlackConfigured(env: Record<string, string | undefined> = process.env): boolean {
  return ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'].some((k) => (env[k] ?? '').trim() !== '');
}

/**
 * Few, quick retries: a chat message that arrives a minute late is worse than an error the core
 * can report. WebClient waits out a 429's Retry-After itself before each retry.
 */
export const WEB_API_RETRY = { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 5_000, randomize: true } as const;

/** Per-request timeout; long enough for a 50 MiB upload on a slow link. */
export const WEB_API_TIMEOUT_MS = 120_000;
