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

/** The one Redis address every process and bench falls back to. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const Env = z.object({
  REDIS_URL: redisUrl.default(DEFAULT_REDIS_URL),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  ARTIFACTS_DIR: z.string().min(1).default('.artifacts'),
  /** Model package the default worker loads; defaults to the built-in model. */
  MODEL_DIR: z.string().optional(),
  /** Redis key prefix, so several installations can share one Redis. */
  DAILIES_PREFIX: z.string().regex(/^[a-z0-9:_-]+$/i).default(DEFAULT_PREFIX),
  /** BullMQ queue name; the bot enqueues to it and workers take from it, so both ends read this. */
  DAILIES_QUEUE: z.string().min(1).default(DEFAULT_QUEUE_NAME),
  /** Waiting + running renders one person may have at once. */
  DAILIES_MAX_OUTSTANDING: z.coerce.number().int().min(1).max(100).default(3),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
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
  /**
   * Worker: the frame check's classifier folder (model.onnx + classifier.json), read before any
   * preview or final is stored; `off` disables it. Default: the shipped models/frame-check-nsfw.
   */
  DAILIES_FRAME_CHECK: z.string().trim().min(1).optional(),
  /**
   * Worker: where the Content Credentials signing key and certificates live (created on first
   * use); give every worker the same folder's files so their finals share one CA.
   */
  DAILIES_SIGNING_DIR: z.string().min(1).default('.dailies/signing'),
  /** Bot: how long the audit log keeps prompts, votes, withheld takes and refusals (`dailies audit`). */
  DAILIES_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
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
  /** Bot: blocked prompt terms, comma- or newline-separated (src/safety/policy-config.ts). */
  DAILIES_BLOCKED_TERMS: z.string().optional(),
  /** Bot: a file of blocked prompt terms, one a line. */
  DAILIES_BLOCKED_TERMS_FILE: z.string().optional(),
  /** Bot: the Discord adapter starts when this is set (its own settings: bots/discord/config.ts). */
  DISCORD_TOKEN: z.string().optional(),
  /** Bot: the Slack adapter starts when this is set (its own settings: bots/slack/config.ts). */
  SLACK_BOT_TOKEN: z.string().optional(),
});

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
