import { z } from 'zod';
import { DailiesError, describeZodIssues } from './errors.ts';

/**
 * Process-wide settings from the environment, validated once at start-up. Platform settings
 * (DISCORD_*, SLACK_*) are validated by their adapters so that a bad Discord token never stops
 * the web chat from starting.
 */
const Env = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
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
});
export type Config = z.infer<typeof Env>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new DailiesError('bad_input', `${describeZodIssues('Environment', parsed.error.issues)} Fix the variable and restart.`);
  }
  return parsed.data;
}
