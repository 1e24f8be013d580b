import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { credentialsPageUrl } from '../bots/local/credentials.ts';
import { Redis } from 'ioredis';
import { commands } from '../commands/index.ts';
import type { ChatAdapter, ThreadRef } from '../src/core/ports/chat-adapter.ts';
import { createAdmission } from '../src/core/admission.ts';
import { createCore } from '../src/core/app.ts';
import { blockScopeOf } from '../src/core/person-block-check.ts';
import { createDelivery } from '../src/core/delivery.ts';
import { createReconciliation } from '../src/core/reconciliation.ts';
import { createRetention, type Retention } from '../src/core/retention.ts';
import { retentionSettings } from './retention.ts';
import { createImageIntake } from '../src/core/image-intake.ts';
import { readGallery } from '../src/core/gallery.ts';
import { GalleryLinks } from '../src/core/gallery-links.ts';
import type { Session } from '../src/core/session.ts';
import type { Config } from '../src/config.ts';
import { frameCheckName } from '../models/frame-check/frame-check-setting.ts';
import { loadPromptCheckSetting } from './prompt-check-loader.ts';
import { reencodeToFit } from '../src/media/index.ts';
import { createBotMetrics } from '../src/metrics/bot-metrics.ts';
import { ModelQueues } from '../src/queue/model-queues.ts';
import { builtinModelDir, readModelName } from '../models/engine/load-model.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import { loadPolicyConfig } from '../src/safety/policy-config.ts';
import { createPromptPolicy } from '../src/safety/prompt-policy.ts';
import { RedisTokenBucket } from '../src/safety/redis-token-bucket.ts';
import { RedisDailyQuota } from '../src/safety/redis-daily-quota.ts';
import { renderQuota } from '../src/safety/render-quota.ts';
import { artifactStoreFromConfig } from '../src/storage/artifact-store-from-config.ts';
import { RedisSessionStore } from '../src/storage/redis-session-store.ts';
import { RedisChannelTerms } from '../src/storage/redis-channel-terms.ts';
import { RedisPersonBlocks } from '../src/storage/redis-person-blocks.ts';
import { RedisSettingsStore } from '../src/storage/redis-settings-store.ts';
import { RedisAuditLog } from '../src/storage/redis-audit-log.ts';
import { processLogger, type AppLogger } from '../src/logging/logger.ts';

/**
 * The bot side of dailies in one process: session store, job queue, delivery, the core, and the
 * chat adapters (local web chat always; Discord and Slack when configured). A platform that fails
 * to start is logged and skipped, so a bad Discord token never takes the web chat down.
 */

export interface BotRuntime {
  localUrl: string | null;
  adapters: ChatAdapter[];
  close(): Promise<void>;
}

export interface BotOptions {
  config: Config;
  /** Serve the local web chat (default true). */
  local?: boolean;
  /** Where the runtime and everything it starts log (default: the process logger). */
  logger?: AppLogger;
  /** Metrics of a worker in this same process (`dailies start`), served with the bot's on /metrics. */
  workerMetrics?: { text(): Promise<string> };
  /** Where jobs that name no model go; default DAILIES_MODEL, else the built-in model. */
  defaultModel?: string;
}

/** What the web page shows beside a thread: the lineage, jobs and vote tallies (no user ids). */
function sessionSummary(s: Session) {
  return {
    id: s.id,
    owner: s.owner.name,
    current: s.current,
    takes: s.settings.takes,
    versions: s.versions.map((v) => ({ n: v.n, prompt: v.prompt, negativePrompt: v.negativePrompt, seed: v.seed, parent: v.parent, author: v.author.name, change: v.change })),
    jobs: s.jobs.map((j) => ({ jobId: j.jobId, version: j.version, kind: j.kind, quality: j.quality, state: j.state, takes: j.takes, error: j.error?.message ?? null })),
    rounds: s.rounds.map((r) => {
      const tally = Array.from({ length: r.takes }, () => 0);
      for (const take of Object.values(r.votes)) if (take < tally.length) tally[take]! += 1;
      // Who voted for which take, by the name they voted under (the page marks the viewer's own vote).
      const voters = Object.fromEntries(Object.entries(r.votes).flatMap(([id, take]) => (r.voterNames?.[id] ? [[r.voterNames[id], take]] : [])));
      return { id: r.id, version: r.version, tally, voters, open: r.closed === null, winner: r.winner };
    }),
    base: s.base,
  };
}

export async function startBot(options: BotOptions): Promise<BotRuntime> {
  const { config } = options;
  const logger = options.logger ?? processLogger();
  const prefix = config.DAILIES_PREFIX;
  // 0. The prompt classifier first: a bad folder stops start-up before anything connects.
  const promptCheck = await loadPromptCheckSetting(config.DAILIES_PROMPT_CHECK, (line) => logger.info(line));

  // 1. Shared state: Redis-backed sessions and queue, files in the artifact store.
  //    Commands give up fast when Redis is down or stalled (one retry, 2 s each), so a chat event
  //    is answered "try again in a minute" instead of hanging until Redis returns; admission's and
  //    reconciliation's sweeps redo whatever an outage interrupted.
  const redis = new Redis(config.REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout: 2_000 });
  redis.on('error', (e) => logger.warn('redis: connection error', e));
  const store = new RedisSessionStore({ redis, prefix: `${prefix}:s:`, postLeaseMs: config.DAILIES_POST_LEASE_MS });
  //    Sessions kept before the gallery's channel index existed are filed in it, once per deployment.
  void store
    .fileKeptByChannel()
    .then((n) => n > 0 && logger.info(`gallery: filed ${n} earlier sessions in their channels' galleries`))
    .catch((e: unknown) => logger.warn("gallery: could not file earlier sessions in their channels' galleries; the next start tries again", e));
  //    One queue per model: a job goes to its model's workers, the default model's when it names none.
  const queue = new ModelQueues({
    redis: redisOptionsFromUrl(config.REDIS_URL),
    prefix,
    perPersonCap: config.DAILIES_MAX_OUTSTANDING,
    queueName: config.DAILIES_QUEUE,
    defaultModel: options.defaultModel ?? config.DAILIES_MODEL ?? (await readModelName(builtinModelDir())),
    unservedAfterMs: config.DAILIES_UNSERVED_AFTER_MS,
    sweepEveryMs: config.DAILIES_SWEEP_INTERVAL_MS,
  });
  // The secret gallery links to Discord and Slack channels are keyed with, the same in every bot
  // process: made once, kept in Redis (src/core/gallery-links.ts).
  // With Redis down at start the bot still starts: this process's own key then, whose links other
  // bot processes do not open (a new /gallery gives a new link).
  const galleryKey = await sharedSecret(redis, `${prefix}:gallery-key`).catch((e: unknown) => {
    logger.warn('gallery: could not read the shared link key from Redis; links made now open on this process only', e);
    return randomBytes(32).toString('base64url');
  });
  // The folder or the bucket the workers write to; adapters read attachments from it by key.
  const artifacts = await artifactStoreFromConfig(config);
  // Who asked for what and what was refused or withheld, read back by `dailies audit`.
  const audit = new RedisAuditLog({ redis, prefix, retentionMs: config.DAILIES_AUDIT_RETENTION_DAYS * 24 * 3_600_000 });

  // Operators' numbers (GET /metrics on the web chat's port): the core counts, the pool is read at scrape time.
  const metrics = createBotMetrics({ queueText: () => queue.prometheusText(), liveSlots: () => queue.liveSlots() });

  // 2. Delivery posts job events into threads; files over a platform's cap are re-encoded.
  const adapters: ChatAdapter[] = [];
  const delivery = createDelivery({
    log: logger,
    metrics: metrics.core,
    store,
    queue,
    adapters: (platform) => adapters.find((a) => a.platform === platform),
    artifacts,
    audit,
    config: { voteWindowMs: config.DAILIES_VOTE_WINDOW_MS, maxSeconds: config.DAILIES_MAX_SECONDS, extendOverlap: config.DAILIES_OVERLAP },
    sweepIntervalMs: config.DAILIES_SWEEP_INTERVAL_MS,
    // Discord and Slack link a signed final's credentials page on the web chat, when it is reachable.
    credentialsUrl: (platform, ref) => (platform !== 'local' && config.DAILIES_PUBLIC_URL ? `${config.DAILIES_PUBLIC_URL.replace(/\/+$/, '')}${credentialsPageUrl(ref.key)}` : null),
    // The smaller copy is stored beside the original (ffmpeg needs a local file, so the original
    // comes through this process's cache) and reused by the next post of the same take.
    fitToSize: async (ref, maxBytes) => {
      const key = ref.key.replace(/(\.[a-z0-9]+)?$/i, `.fit${maxBytes}.mp4`);
      const fitted = await artifacts.stat(key);
      if (fitted) return fitted;
      const dir = await mkdtemp(join(tmpdir(), 'dailies-fit-'));
      try {
        const result = await reencodeToFit(await artifacts.localPath(ref), maxBytes, join(dir, 'fit.mp4'));
        return await artifacts.putFile(key, result.path, 'video/mp4');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  });

  // Slack's private file URLs need the bot token, so the adapter exists before the image intake
  // (its constructor touches no network).
  const slack = config.slack ? new (await import('../bots/slack/slack-adapter.ts')).SlackAdapter({ env: config.platformEnv, artifacts, logger: logger.child({ platform: 'slack' }), logLevel: config.LOG_LEVEL }) : undefined;

  // 3. Admission hands recorded jobs to the queue after each answer, and sweeps up jobs a bot
  //    recorded but died before queueing.
  const admission = createAdmission({ log: logger, store, queue, delivery, graceMs: config.DAILIES_ADMISSION_GRACE_MS, sweepEveryMs: config.DAILIES_SWEEP_INTERVAL_MS });
  //    Reconciliation finishes the delivery of jobs whose end no bot showed (it happened while
  //    every bot was down, or a bot died while posting it).
  const reconciliation = createReconciliation({ log: logger, store, queue, delivery, everyMs: config.DAILIES_SWEEP_INTERVAL_MS });

  // 4. The core: commands, replies and buttons -> sessions and jobs.
  const blocks = new RedisPersonBlocks(redis, `${prefix}:`);
  const core = createCore({
    log: logger,
    metrics: metrics.core,
    commands,
    store,
    queue,
    models: queue,
    adapters: (platform) => adapters.find((a) => a.platform === platform),
    delivery,
    admission,
    policy: createPromptPolicy(loadPolicyConfig(config)),
    promptCheck,
    rateLimiter: new RedisTokenBucket(redis, { prefix: `${prefix}:` }),
    channelTerms: new RedisChannelTerms(redis, `${prefix}:`),
    blocks,
    settings: new RedisSettingsStore(redis, `${prefix}:`),
    // Budgets count work at the defaults of the model the pool runs (published by its workers).
    quota:
      config.DAILIES_QUOTA_PERSON || config.DAILIES_QUOTA_CHANNEL
        ? renderQuota(new RedisDailyQuota(redis, { person: config.DAILIES_QUOTA_PERSON || null, channel: config.DAILIES_QUOTA_CHANNEL || null }, `${prefix}:`), () => queue.modelScale())
        : null,
    audit,
    // A moderator's removal deletes a take's files from here.
    artifacts,
    images: createImageIntake({ artifacts, headers: (p) => (p === 'slack' ? slack?.attachmentHeaders() : undefined) }),
    // /gallery links the web chat's gallery from Discord and Slack when it has a public address.
    config: { voteWindowMs: config.DAILIES_VOTE_WINDOW_MS, maxSeconds: config.DAILIES_MAX_SECONDS, extendOverlap: config.DAILIES_OVERLAP, creditNames: config.DAILIES_CREDIT_NAMES === 'on', publicUrl: config.DAILIES_PUBLIC_URL, galleryKey },
  });

  // 5. Adapters: each started independently; one failing does not stop the others. The web chat
  //    reads finals' Content Credentials against this installation's CA when this process can
  //    see the signing folder (always under `dailies start`); elsewhere they read as valid.
  const trustAnchorsPem = await readFile(join(resolve(config.DAILIES_SIGNING_DIR), 'ca.pem'), 'utf8').catch(() => undefined);
  let localUrl: string | null = null;
  const closers: (() => Promise<void>)[] = [];
  // Retention deletes our own copy of an expired thread; only the web chat keeps one.
  let forgetThread: ((thread: ThreadRef) => Promise<number>) | undefined;
  if (options.local !== false) {
    const { startLocalChat } = await import('../bots/local/server.ts');
    const chat = await startLocalChat({
      logger: logger.child({ platform: 'local' }),
      port: config.PORT,
      hostname: config.HOST,
      redis,
      artifacts,
      prefix: `${prefix}:local:`,
      moderators: config.DAILIES_LOCAL_MODERATORS,
      metrics: {
        contentType: metrics.contentType,
        text: async () => (await Promise.all([metrics.text(), options.workerMetrics?.text() ?? ''])).join(''),
      },
      ...(trustAnchorsPem !== undefined ? { trustAnchorsPem } : {}),
      // The queue dashboard, only with a token: without one there is no route, and bull-board is never loaded.
      // Every channel's winning and finalized takes, named as finals' Content Credentials name people.
      gallery: { read: (channelKey, page) => readGallery(store, channelKey, page, { anonymous: config.DAILIES_CREDIT_NAMES !== 'on' }), links: new GalleryLinks(galleryKey) },
      ...(config.DAILIES_ADMIN_TOKEN ? { adminQueues: { token: config.DAILIES_ADMIN_TOKEN, write: config.DAILIES_ADMIN_WRITE === 'on', queues: () => queue.dashboardQueues() } } : {}),
      hooks: {
        describeSession: async (thread: ThreadRef) => {
          const session = await store.getByThread(thread);
          return session ? sessionSummary(session) : null;
        },
        frameCheck: () => frameCheckName(config.DAILIES_FRAME_CHECK),
        promptCheck: () => promptCheck?.name ?? 'off',
        personBlock: (personId) => blocks.get(blockScopeOf({ platform: 'local' }), personId, Date.now()),
      },
    });
    await chat.adapter.start(core);
    adapters.push(chat.adapter);
    closers.push(() => chat.close());
    forgetThread = async (thread) => (thread.platform === 'local' ? chat.adapter.store.forgetThread(thread.channelId, thread.threadId) : 0);
    localUrl = chat.url;
    logger.info(`web chat: ${chat.url}`);
  }
  if (config.discord) {
    const { DiscordAdapter } = await import('../bots/discord/discord-adapter.ts');
    const discord = new DiscordAdapter({ env: config.platformEnv, artifacts, logger: logger.child({ platform: 'discord' }) });
    try {
      await discord.start(core);
      adapters.push(discord);
      closers.push(() => discord.stop());
      logger.info('discord: connected');
    } catch (e) {
      logger.error(`discord: not started: ${(e as Error).message}`);
    }
  }
  if (slack) {
    try {
      await slack.start(core);
      adapters.push(slack);
      closers.push(() => slack.stop());
      logger.info('slack: connected');
    } catch (e) {
      logger.error(`slack: not started: ${(e as Error).message}`);
    }
  }

  // 6. Background work starts once every adapter that could start is registered: a sweep at start
  //    posts into threads (overdue vote results, finished jobs), which needs the adapters.
  delivery.start();
  admission.start();
  //    The queues of every model seen lately are open (their events heard) before the sweeps run.
  await queue.eventsReady().catch((e: unknown) => logger.warn('queue: could not open the models\' queues yet; the sweep will', e));
  queue.start();
  reconciliation.start();
  //    Retention deletes sessions idle past DAILIES_RETENTION_DAYS (0: off), with their files.
  const retentionCutoffs = retentionSettings(config);
  const retention: Retention | null = retentionCutoffs ? createRetention({ ...retentionCutoffs, log: logger, store, artifacts, ...(forgetThread ? { forgetThread } : {}) }) : null;
  retention?.start();

  return {
    localUrl,
    adapters,
    close: async () => {
      await retention?.stop();
      for (const close of closers.reverse()) await close().catch((e: unknown) => logger.warn('shutdown: closing an adapter failed', e));
      await reconciliation.stop();
      await admission.stop();
      await delivery.stop();
      await queue.close();
      await store.close();
      await promptCheck?.close();
      redis.disconnect();
    },
  };
}

/** A random secret kept under `key`: made by the first process that asks, read by every other. */
async function sharedSecret(redis: Redis, key: string): Promise<string> {
  await redis.set(key, randomBytes(32).toString('base64url'), 'NX');
  const secret = await redis.get(key);
  if (!secret) throw new Error(`${key} vanished right after it was written`);
  return secret;
}
