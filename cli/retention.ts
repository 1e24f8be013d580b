import { Redis } from 'ioredis';
import { LocalChatStore } from '../bots/local/local-store.ts';
import { DEFAULT_REDIS_URL, loadConfigWithRedisFlag, type Config } from '../src/config.ts';
import { createRetention, type RetentionDeps } from '../src/core/retention.ts';
import { DailiesError } from '../src/errors.ts';
import { processLogger } from '../src/logging/logger.ts';
import { redactUrl } from '../src/redact-url.ts';
import { artifactStoreFromConfig } from '../src/storage/artifact-store-from-config.ts';
import { RedisSessionStore } from '../src/storage/redis-session-store.ts';
import { parseCliArgs } from '../src/util/cli-args.ts';
import { redisAnswers } from './redis-connection.ts';

const COMMAND = 'dailies retention';

const HELP = `Usage: ${COMMAND} [--dry-run] [--redis URL]

Runs one retention sweep now, as every bot does each $DAILIES_RETENTION_INTERVAL_MS: deletes the
sessions idle for $DAILIES_RETENTION_DAYS (default 30; $DAILIES_RETENTION_KEEP_DAYS, default 365,
for those whose take won a vote or that rendered a final), with their files and web chat threads.

  --dry-run      delete nothing; say how many sessions a sweep would delete now
  --redis URL    Redis address (default $REDIS_URL or ${DEFAULT_REDIS_URL})

Run it with the bot's settings (DAILIES_PREFIX, ARTIFACTS_DIR or ARTIFACTS_URL).`;

const OPTIONS = { 'dry-run': { type: 'boolean' }, redis: { type: 'string' } } as const;

const DAY = 86_400_000;

/** The sweep's cutoffs from the settings; null when retention is off (DAILIES_RETENTION_DAYS=0). */
export function retentionSettings(config: Config): Pick<RetentionDeps, 'idleMs' | 'keepMs' | 'everyMs'> | null {
  if (config.DAILIES_RETENTION_DAYS === 0) return null;
  return {
    idleMs: config.DAILIES_RETENTION_DAYS * DAY,
    keepMs: config.DAILIES_RETENTION_KEEP_DAYS > 0 ? config.DAILIES_RETENTION_KEEP_DAYS * DAY : null,
    everyMs: config.DAILIES_RETENTION_INTERVAL_MS,
  };
}

export async function run(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, OPTIONS, { command: COMMAND });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const config = loadConfigWithRedisFlag(values.redis);
  const settings = retentionSettings(config);
  if (!settings) {
    console.log('Retention is off (DAILIES_RETENTION_DAYS=0): nothing is deleted.');
    return 0;
  }
  if (!(await redisAnswers(config.REDIS_URL))) {
    throw new DailiesError('unavailable', `Nothing answers at ${redactUrl(config.REDIS_URL)}; start Redis or point REDIS_URL (or --redis) at the one the bot uses.`);
  }
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 30_000 });
  redis.on('error', () => {});
  const logger = processLogger();
  try {
    const prefix = config.DAILIES_PREFIX;
    const chat = new LocalChatStore({ redis, prefix: `${prefix}:local:`, eventLogSize: 1000, logger });
    const retention = createRetention({
      ...settings,
      store: new RedisSessionStore({ redis, prefix: `${prefix}:s:` }),
      artifacts: await artifactStoreFromConfig(config),
      forgetThread: async (thread) => (thread.platform === 'local' ? chat.forgetThread(thread.channelId, thread.threadId) : 0),
    });
    const dryRun = values['dry-run'] === true;
    const report = await retention.sweep({ dryRun });
    const waiting = report.active > 0 ? `; ${report.active} past it wait for a render still waiting or running` : '';
    console.log(dryRun ? `${report.sessions} sessions would be deleted now${waiting}.` : `Deleted ${report.sessions} sessions, ${report.files} files and ${report.messages} web chat messages${waiting}.`);
    return 0;
  } finally {
    redis.disconnect();
  }
}
