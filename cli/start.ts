import os from 'node:os';
import { resolve } from 'node:path';
import { builtinModelDir, readModelName } from '../models/engine/load-model.ts';
import { modelQueueName } from '../src/queue/model-queue-name.ts';
import { engineSpec, workerName } from './worker.ts';
import { ffmpegRenderMedia } from '../workers/render-media.ts';
import { ThreadedVideoModel } from '../workers/threaded-video-model.ts';
import { RenderWorker } from '../workers/worker.ts';
import { frameCheckLoader } from '../workers/frame-check-loader.ts';
import { createFinalSigner } from '../workers/final-signer.ts';
import { loadSigningIdentity } from '../src/provenance/index.ts';
import { DEFAULT_REDIS_URL, loadConfig } from '../src/config.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import { artifactStoreFromConfig } from '../src/storage/artifact-store-from-config.ts';
import { startBot } from './bot-runtime.ts';
import { parseCliArgs } from '../src/util/cli-args.ts';
import { ensureRedis } from './redis-connection.ts';
import { processLogger } from '../src/logging/logger.ts';
import { createWorkerMetrics } from '../src/metrics/worker-metrics.ts';

/**
 * `dailies start` (npm start): everything on one machine — Redis if none is running, the web chat
 * (plus Discord/Slack when configured) and one render worker on the built-in model.
 * `dailies bot` is the same without the worker, for split deployments.
 */

const START_HELP = `Usage: dailies start [--no-worker]

Starts the local web chat on $PORT (default 8080), one render worker on the built-in model
(or $MODEL_DIR), and the Discord/Slack adapters when their tokens are set. Connects to $REDIS_URL
(default ${DEFAULT_REDIS_URL}), starting redis-server for its own lifetime if nothing answers.`;

const BOT_HELP = `Usage: dailies bot

Starts the chat side only: the local web chat on $PORT (default 8080), the Discord/Slack adapters
when their tokens are set, and delivery of finished renders. Render workers run elsewhere
(\`dailies worker\`) against the same $REDIS_URL and $DAILIES_PREFIX.`;

async function serve(argv: string[], withWorker: boolean): Promise<number> {
  const values = parseCliArgs(argv, withWorker ? { 'no-worker': { type: 'boolean' } } : {}, { command: withWorker ? 'dailies start' : 'dailies bot' }) as { help?: boolean; 'no-worker'?: boolean };
  if (values.help) {
    console.log(withWorker ? START_HELP : BOT_HELP);
    return 0;
  }
  const config = loadConfig();
  const logger = processLogger();
  const log = (line: string) => logger.info(line);

  // 1. Redis: the configured one, or our own child redis-server (start only; bots in production are pointed at a real one).
  const redisHandle = withWorker ? await ensureRedis(config.REDIS_URL, resolve('.dailies/redis'), log) : { stop: async () => {} };

  // 2. The bot side: core, delivery, chat adapters. The signing folder exists first, so the web
  //    chat can show this installation's finals as trusted (its CA is their anchor).
  if (withWorker && !values['no-worker']) await loadSigningIdentity(resolve(config.DAILIES_SIGNING_DIR));
  //    The worker's render times are served on the web chat's /metrics with the bot's.
  const runsWorker = withWorker && !values['no-worker'];
  let modelName = 'unknown';
  let worker: RenderWorker | undefined;
  const workerMetrics = runsWorker ? createWorkerMetrics({ model: () => modelName, slots: 1, activeJobs: () => worker?.activeJobs ?? 0 }, { processMetrics: false }) : undefined;
  //    Jobs that name no model go to the one this worker loads, unless DAILIES_MODEL says otherwise.
  const modelDir = resolve(config.MODEL_DIR ?? builtinModelDir());
  const defaultModel = config.DAILIES_MODEL ?? (runsWorker ? await readModelName(modelDir) : undefined);
  const bot = await startBot({ config, logger, ...(workerMetrics && { workerMetrics }), ...(defaultModel && { defaultModel }) });

  // 3. One worker on this machine, rendering in a thread so the web chat stays responsive.
  if (runsWorker) {
    const threads = Math.max(1, os.availableParallelism());
    worker = new RenderWorker({
      redis: redisOptionsFromUrl(config.REDIS_URL),
      prefix: config.DAILIES_PREFIX,
      queueName: modelQueueName(config.DAILIES_QUEUE, await readModelName(modelDir)),
      lockDurationMs: config.DAILIES_LOCK_DURATION_MS,
      stalledIntervalMs: config.DAILIES_STALLED_INTERVAL_MS,
      stallTimeoutMs: config.DAILIES_STALL_TIMEOUT_MS,
      workerId: workerName(undefined),
      concurrency: 1,
      createModel: () => ThreadedVideoModel.start(engineSpec({ modelDir, provider: 'cpu', deviceId: undefined, concurrency: 1, threads })),
      media: ffmpegRenderMedia(),
      store: await artifactStoreFromConfig(config),
      frameCheck: frameCheckLoader(config.DAILIES_FRAME_CHECK, log),
      signer: (model) => createFinalSigner({ dir: resolve(config.DAILIES_SIGNING_DIR), modelDir, modelName: model.name }),
      ...(workerMetrics && { onRendered: (outcome: 'completed' | 'failed', ms: number) => workerMetrics.rendered(outcome, ms / 1000) }),
    });
    try {
      const model = await worker.start();
      modelName = model.name;
      log(`worker ready: model "${model.name}"`);
    } catch (error) {
      await worker.close(0);
      await bot.close();
      await redisHandle.stop();
      throw error;
    }
  }
  if (bot.localUrl) log(`open ${bot.localUrl} and type /video a red circle moving left on a black background`);

  // 4. Run until interrupted; shut down in reverse order.
  const signal = await new Promise<string>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  log(`${signal}: shutting down`);
  const force = setTimeout(() => process.exit(1), 30_000);
  force.unref();
  await worker?.close(10_000);
  await bot.close();
  await redisHandle.stop();
  // The last line tells an operator reading the log that shutdown finished rather than was cut off.
  log('stopped');
  return 0;
}

export const run = (argv: string[]) => serve(argv, true);
export const runBot = (argv: string[]) => serve(argv, false);

