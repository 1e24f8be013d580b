import { z } from 'zod';
import { DailiesError, describeZodIssues } from './errors.ts';
import { REDIS_URL_FORM, redisUrlProblem } from './queue/redis-options.ts';

/**
 * Process-wide settings from the environment, validated once at start-up. Platform settings
 * (DISCORD_*, SLACK_*) are validated by their adapters so that a bad Discord token never stops
 * the web chat from starting.
 */
/** Checked here, before anything connects: a bad db path used to crash the process inside ioredis. */
const redisUrl = z.string().superRefine((url, ctx) => {
  const problem = redisUrlProblem(url);
  if (problem) ctx.addIssue({ code: 'custom', message: `must look like ${REDIS_URL_FORM}, but ${problem}` });
});

const Env = z.object({
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  ARTIFACTS_DIR: z.string().min(1).default('.artifacts'),
  /** Model package the default worker loads; defaults to the built-in model. */
  MODEL_DIR: z.string().optional(),
  /** Redis key prefix, so several installations can share one Redis. */
  DAILIES_PREFIX: z.string().regex(/^[a-z0-9:_-]+$/i).default('dailies'),
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
  /** Worker: how often workers look for jobs whose worker died (BullMQ stall detection). */
  DAILIES_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /** Worker: a job's lock; a dead worker's job is taken over after it lapses (renewed at half while alive). */
  DAILIES_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
});
export type Config = z.infer<typeof Env>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    // One sentence: what is wrong with which variable, then what to do.
    throw new DailiesError('bad_input', `${describeZodIssues('Environment', parsed.error.issues).replace(/\.$/, '')}; fix the variable and restart.`);
  }
  return parsed.data;
}
