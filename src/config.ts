import { z } from 'zod';
import { DailiesError, describeZodIssues } from './errors.ts';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME } from './queue/queue-keys.ts';
import { REDIS_URL_FORM, redisUrlError, redisUrlProblem } from './queue/redis-options.ts';

/**
 * Process-wide settings from the environment, validated once at start-up by every process (bot,
 * worker, benches): this is the one module that reads the environment; everything else is passed
 * values. Platform settings (DISCORD_*, SLACK_*) are validated by their adapters so that a bad
 * Discord token never stops the web chat from starting: here they are only picked out
 * (`platformEnv`) and their presence turned into `discord` / `slack`.
 */
/** Checked here, before anything connects: a bad db path used to crash the process inside ioredis. */
const redisUrl = z.string().superRefine((url, ctx) => {
  const problem = redisUrlProblem(url);
  if (problem) ctx.addIssue({ code: 'custom', message: `must look like ${REDIS_URL_FORM}, but ${problem}` });
});

/** s3://bucket[/prefix/parts]: the bucket as S3 names them, the prefix in artifact-key segments. */
const ARTIFACTS_URL_FORM = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:\/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/?)*)?$/;

/** Log levels, most detailed first; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The one Redis address every process and bench falls back to. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const Env = z.object({
  REDIS_URL: redisUrl.default(DEFAULT_REDIS_URL),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  ARTIFACTS_DIR: z.string().min(1).default('.artifacts'),
  /**
   * `s3://bucket[/prefix]`: artifacts live in an S3-compatible bucket (S3, MinIO, R2) instead of
   * ARTIFACTS_DIR, so the bot and workers need no shared disk. Credentials come the AWS SDK's way
   * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE, an instance role).
   */
  ARTIFACTS_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().regex(ARTIFACTS_URL_FORM, 'must look like s3://bucket or s3://bucket/prefix (a bucket name of 3-63 lower-case letters, digits, dots and dashes)').optional(),
  ),
  /** The S3 API's address for MinIO, R2 and other S3-compatible stores (http://minio:9000); unset: AWS S3. */
  S3_ENDPOINT: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://minio:9000' }).optional()),
  S3_REGION: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).default('us-east-1')),
  /** `true` for MinIO and most self-hosted stores (bucket in the path, not the host name). */
  S3_FORCE_PATH_STYLE: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['true', 'false', '1', '0'], 'must be true or false').default('false')).transform((v) => v === 'true' || v === '1'),
  /** Model package the default worker loads; defaults to the built-in model. */
  MODEL_DIR: z.string().optional(),
  /** Redis key prefix, so several installations can share one Redis. */
  DAILIES_PREFIX: z.string().regex(/^[a-z0-9:_-]+$/i).default(DEFAULT_PREFIX),
  /** Base of the BullMQ queue names, one queue per model (`<base>.<model>`); bot and workers both read it. */
  DAILIES_QUEUE: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be 1-100 letters, digits, ".", "_" or "-"').default(DEFAULT_QUEUE_NAME),
  /** The model a job goes to when it names none; unset: the built-in model (`dailies start`: the model it loads). */
  DAILIES_MODEL: z.preprocess((v) => (typeof v === 'string' && !v.trim() ? undefined : v), z.string().trim().max(100).optional()),
  /** How long a model may go without a live worker before jobs for it are refused and its waiting ones fail. */
  DAILIES_UNSERVED_AFTER_MS: z.coerce.number().int().min(1_000).max(7 * 24 * 3_600_000).default(10 * 60_000),
  /** Waiting + running renders one person may have at once. */
  DAILIES_MAX_OUTSTANDING: z.coerce.number().int().min(1).max(100).default(3),
  /** Worker: serve GET /metrics and GET /health on this port (`dailies worker --metrics-port`); unset: not served. */
  DAILIES_WORKER_METRICS_PORT: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number({ error: 'must be a port from 1 to 65535' }).int('must be a port from 1 to 65535').min(1, 'must be a port from 1 to 65535').max(65535, 'must be a port from 1 to 65535').optional()),
  /** Every process's and thread's log level (src/logging); `debug` also shows onnxruntime's own log. */
  LOG_LEVEL: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'),
  /** `json` (one object a line) or `pretty` (for a person at a terminal); unset: pretty only when stderr is a terminal. */
  LOG_FORMAT: z.enum(['json', 'pretty'], 'must be json or pretty').optional(),
  /** Bot: how often admission's sweep, delivery's reconciliation and vote-round sweep run. */
  DAILIES_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  /** Bot: how old a recorded job must be before a sweep takes it as abandoned by a dead bot and queues it. */
  DAILIES_ADMISSION_GRACE_MS: z.coerce.number().int().min(100).max(3_600_000).default(20_000),
  /** Bot: how long a post claim holds before another bot may post that item (a crash mid-post). */
  DAILIES_POST_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(120_000),
  /** Bot: how long the team votes on a job's takes. */
  DAILIES_VOTE_WINDOW_MS: z.coerce.number().int().min(1_000).max(7 * 24 * 3_600_000).default(10 * 60_000),
  /** Bot: the longest video people may ask for, in seconds (renders, extensions, bridges, storyboard films). */
  DAILIES_MAX_SECONDS: z.coerce.number().min(1).max(600).default(60),
  /** Bot: known frames carried across each join of a long render, an extension or a bridge. */
  DAILIES_OVERLAP: z.coerce.number().int().min(1).max(15).default(4),
  /** Worker: how often workers look for jobs whose worker died (BullMQ stall detection). */
  DAILIES_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /** Worker: a job's lock; a dead worker's job is taken over after it lapses (renewed at half while alive). */
  DAILIES_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** Worker: a render with no step, preview or stored take for this long is aborted and retried (a hung engine or ffmpeg). */
  DAILIES_STALL_TIMEOUT_MS: z.coerce.number().int().min(10_000).max(86_400_000).default(600_000),
  /**
   * Worker: the frame check's classifier folder (model.onnx + classifier.json), read before any
   * preview or final is stored; `off` disables it. Default: the shipped models/frame-check-nsfw.
   */
  DAILIES_FRAME_CHECK: z.string().trim().min(1).optional(),
  /**
   * Bot: a text classifier folder (model.onnx + tokenizer.json + classifier.json) every prompt
   * passes before it is stored, after the blocked terms; unset or `off`: none (none ships).
   */
  DAILIES_PROMPT_CHECK: z.string().trim().min(1).optional(),
  /**
   * Worker: where the Content Credentials signing key and certificates live (created on first
   * use); give every worker the same folder's files so their finals share one CA.
   */
  DAILIES_SIGNING_DIR: z.string().min(1).default('.dailies/signing'),
  /** Bot: how long the audit log keeps prompts, votes, withheld takes and refusals (`dailies audit`). */
  DAILIES_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** Bot: days after its last activity a session, its files and the web chat's copy of its thread are deleted; 0 keeps everything. */
  DAILIES_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(30),
  /** Bot: the same for a session whose take won a vote or was finalized (kept whole, never sooner than DAILIES_RETENTION_DAYS); 0: forever. */
  DAILIES_RETENTION_KEEP_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
  /** Bot: how often retention sweeps. */
  DAILIES_RETENTION_INTERVAL_MS: z.coerce.number().int().min(60_000).max(86_400_000).default(3_600_000),
  /** Bot: `off` writes finals' credits as "contributor 1", … instead of people's names. */
  DAILIES_CREDIT_NAMES: z.enum(['on', 'off'], 'must be on or off').default('on'),
  /**
   * Bot: the web chat's address as people outside this machine reach it (https://dailies.example.com);
   * Discord and Slack posts link a final's Content Credentials page there. Unset: the posts carry
   * the credits line only.
   */
  // Compose passes an unset variable as "", which means unset here too.
  DAILIES_PUBLIC_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://dailies.example.com' }).optional()),
  /**
   * Bot: daily render budgets in work units (takes x steps x frames, the ETA's unit; a 2-take
   * draft of the built-in model is 320), per person and per channel; 0 or unset: none.
   */
  DAILIES_QUOTA_PERSON: z.coerce.number().int().min(0).max(1e12).default(0),
  DAILIES_QUOTA_CHANNEL: z.coerce.number().int().min(0).max(1e12).default(0),
  /**
   * Bot: display names that moderate in the web chat, comma-separated (it has no accounts, so
   * anyone who picks such a name moderates: keep it on a trusted network). Unset: nobody.
   */
  DAILIES_LOCAL_MODERATORS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const names = (v ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
      const long = names.find((n) => n.length > 40);
      if (long) ctx.addIssue({ code: 'custom', message: `names "${long.slice(0, 20)}…", longer than the 40 characters a web chat name may have` });
      return names;
    }),
  /**
   * Bot: the password of the queue dashboard at /admin/queues on the web chat's port (HTTP Basic
   * with any user name, or `Authorization: Bearer`). Unset: the dashboard is off (404).
   */
  DAILIES_ADMIN_TOKEN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(16, 'must be at least 16 characters (for example the output of `openssl rand -hex 24`)').optional(),
  ),
  /** Bot: `on` lets the queue dashboard change the queue (remove, retry, clean jobs); `off` shows it only. */
  DAILIES_ADMIN_WRITE: z.enum(['on', 'off'], 'must be on or off').default('off'),
  /** Bot: blocked prompt terms, comma- or newline-separated (src/safety/policy-config.ts). */
  DAILIES_BLOCKED_TERMS: z.string().optional(),
  /** Bot: a file of blocked prompt terms, one a line. */
  DAILIES_BLOCKED_TERMS_FILE: z.string().optional(),
  /** Bot: the Discord adapter starts when this is set (its own settings: bots/discord/config.ts). */
  DISCORD_TOKEN: z.string().optional(),
  /** Bot: the Slack adapter starts when this is set (its own settings: bots/slack/config.ts). */
  SLACK_BOT_TOKEN: z.string().optional(),
});

/** Every setting this module reads (deployment files are checked against it). */
export const SETTING_NAMES: readonly string[] = Object.keys(Env.shape);

/** DISCORD_* and SLACK_*, handed to the adapters, which validate them when they start. */
const PlatformEnv = z.record(z.string().regex(/^(DISCORD|SLACK)_/), z.string().optional());

export type Config = Omit<z.infer<typeof Env>, 'DISCORD_TOKEN' | 'SLACK_BOT_TOKEN'> & {
  /** DISCORD_TOKEN is set. */
  discord: boolean;
  /** SLACK_BOT_TOKEN is set. */
  slack: boolean;
  platformEnv: Record<string, string | undefined>;
};

/**
 * DISCORD_* and SLACK_* only, unvalidated: for `dailies register`, which must not fail on a bad
 * REDIS_URL it never uses. The adapters validate these when they start.
 */
export function platformEnvOf(env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  return PlatformEnv.parse(Object.fromEntries(Object.entries(env).filter(([name]) => /^(DISCORD|SLACK)_/.test(name))));
}

/** The settings from `env` (the process environment unless given), with `overrides` (a CLI flag standing in for a variable) on top. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, string | undefined> = {}): Config {
  env = { ...env, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    // One sentence: what is wrong with which variable, then what to do.
    throw new DailiesError('bad_input', `${describeZodIssues('Environment', parsed.error.issues).replace(/\.$/, '')}; fix the variable and restart.`);
  }
  const { DISCORD_TOKEN, SLACK_BOT_TOKEN, ...settings } = parsed.data;
  return { ...settings, discord: Boolean(DISCORD_TOKEN), slack: Boolean(SLACK_BOT_TOKEN), platformEnv: platformEnvOf(env) };
}

/**
 * The settings for a CLI with a `--redis URL` option: the flag, when given, is checked as an
 * option (its own one-sentence error) and then stands in for REDIS_URL.
 */
export function loadConfigWithRedisFlag(redisFlag: string | undefined, env?: NodeJS.ProcessEnv): Config {
  if (redisFlag !== undefined) {
    const bad = redisUrlError('--redis', redisFlag, 'fix the option and run again');
    if (bad) throw new DailiesError('bad_input', bad);
  }
  return loadConfig(env, { REDIS_URL: redisFlag });
}

/** Variables that hold credentials: their values never appear in a log line (src/logging). */
const SECRET_VARIABLES = ['DISCORD_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'DAILIES_ADMIN_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

export interface LogSettings {
  level: LogLevel;
  format: 'json' | 'pretty' | undefined;
  /** The values of the credential variables that are set, to be blanked out of every line. */
  secrets: string[];
}

/**
 * What a logger needs, read apart from `loadConfig` so that every process and worker thread logs
 * the same way before (or without) loading the rest. A bad value falls back to the default here;
 * `loadConfig` is what reports it, in its one sentence.
 */
export function logSettings(env: NodeJS.ProcessEnv = process.env): LogSettings {
  const level = Env.shape.LOG_LEVEL.safeParse(env.LOG_LEVEL);
  const format = Env.shape.LOG_FORMAT.safeParse(env.LOG_FORMAT);
  return {
    level: level.success ? level.data : 'info',
    format: format.success ? format.data : undefined,
    secrets: SECRET_VARIABLES.map((name) => env[name]).filter((v): v is string => typeof v === 'string' && v.length > 0),
  };
}
