import os from 'node:os';
import path from 'node:path';
import { builtinModelDir, readModelName } from '../models/engine/load-model.ts';
import { modelQueueName } from '../src/queue/model-queue-name.ts';
import { DEFAULT_REDIS_URL, loadConfigWithRedisFlag, type Config } from '../src/config.ts';
import { DailiesError } from '../src/errors.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import { artifactStoreFromConfig } from '../src/storage/artifact-store-from-config.ts';
import { parseCliArgs, wholeNumber } from '../src/util/cli-args.ts';
import type { EngineSpec } from '../workers/engine-protocol.ts';
import { ffmpegRenderMedia } from '../workers/render-media.ts';
import { ThreadedVideoModel } from '../workers/threaded-video-model.ts';
import { RenderWorker } from '../workers/worker.ts';
import { frameCheckLoader } from '../workers/frame-check-loader.ts';
import { createFinalSigner } from '../workers/final-signer.ts';
import { processLogger } from '../src/logging/logger.ts';
import { createWorkerMetrics } from '../src/metrics/worker-metrics.ts';
import { startMetricsServer } from '../src/metrics/metrics-server.ts';

const USAGE = `Usage: dailies worker [options]

Runs one worker process of the render pool: one per GPU, on as many machines as you like,
all pointed at the same Redis.

Options:
  --device N         Render on GPU N (CUDA provider, device N); also names the worker
  --concurrency N    Render slots in this process, one job each (default 1)
  --model DIR        Model folder (default $MODEL_DIR, else the built-in model); the
                     worker serves that model's queue, and /video model:<its name> picks it
  --provider P       cpu or cuda (default cpu, or cuda with --device)
  --threads N        CPU threads per slot (default: cores / slots)
  --redis URL        Redis address (default $REDIS_URL or ${DEFAULT_REDIS_URL})
  --queue NAME       Base of the queue names, <base>.<model> (default $DAILIES_QUEUE or renders)
  --grace SECONDS    On SIGTERM, time running renders get to finish before they are
                     handed back to the queue (default 30)
  --metrics-port N   Serve GET /metrics (Prometheus) and GET /health on this port
                     (default $DAILIES_WORKER_METRICS_PORT; off when unset)
  --metrics-host H   Address for that port (default 127.0.0.1; 0.0.0.0 in a container)
  -h, --help         Show this help

Artifacts are written to the bucket of $ARTIFACTS_URL (s3://bucket/prefix) when set, else under
$ARTIFACTS_DIR (default ./.artifacts).`;

export interface WorkerArgs {
  deviceId: number | undefined;
  concurrency: number;
  modelDir: string;
  provider: 'cpu' | 'cuda';
  threads: number | undefined;
  redisUrl: string;
  queueName: string;
  graceMs: number;
  /** Where GET /metrics and GET /health are served; absent: not served. */
  metrics?: { port: number; host: string };
  /** The environment's settings (src/config.ts), with --redis as REDIS_URL. */
  config: Config;
}

/**
 * The worker's options: flags first, then the environment (through src/config.ts), then defaults.
 * `env` is the process environment unless a test passes its own.
 */
export function parseWorkerArgs(argv: string[], env?: NodeJS.ProcessEnv): WorkerArgs | 'help' {
  const values = parseCliArgs(
    argv,
    {
      device: { type: 'string' },
      concurrency: { type: 'string' },
      model: { type: 'string' },
      provider: { type: 'string' },
      threads: { type: 'string' },
      redis: { type: 'string' },
      queue: { type: 'string' },
      grace: { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
    },
    { command: 'dailies worker' },
  );
  if (values.help) return 'help';
  const deviceId = wholeNumber('--device', values.device, undefined, 0);
  const provider = values.provider ?? (deviceId === undefined ? 'cpu' : 'cuda');
  if (provider !== 'cpu' && provider !== 'cuda') {
    throw new DailiesError('bad_input', `--provider must be cpu or cuda, not "${provider}".`);
  }
  if (deviceId !== undefined && provider !== 'cuda') {
    throw new DailiesError('bad_input', '--device picks a GPU, so it needs --provider cuda (or no --provider).');
  }
  const config = loadConfigWithRedisFlag(values.redis, env);
  const metricsPort = values['metrics-port'] !== undefined ? wholeNumber('--metrics-port', values['metrics-port'], undefined, 1) : config.DAILIES_WORKER_METRICS_PORT;
  if (metricsPort !== undefined && metricsPort > 65_535) throw new DailiesError('bad_input', `--metrics-port must be a port from 1 to 65535, not ${metricsPort}.`);
  if (values['metrics-host'] !== undefined && metricsPort === undefined) throw new DailiesError('bad_input', '--metrics-host needs --metrics-port: say which port to serve metrics on.');
  return {
    deviceId,
    concurrency: wholeNumber('--concurrency', values.concurrency, 1, 1),
    modelDir: path.resolve(values.model ?? config.MODEL_DIR ?? builtinModelDir()),
    provider,
    threads: wholeNumber('--threads', values.threads, undefined, 1),
    redisUrl: config.REDIS_URL,
    queueName: values.queue ?? config.DAILIES_QUEUE,
    graceMs: wholeNumber('--grace', values.grace, 30, 0) * 1000,
    ...(metricsPort !== undefined && { metrics: { port: metricsPort, host: values['metrics-host'] ?? '127.0.0.1' } }),
    config,
  };
}

/** The engine as loaded in each slot's thread: models/engine/load-model.ts `loadModel(dir, options)`. */
export function engineSpec(args: Pick<WorkerArgs, 'modelDir' | 'provider' | 'deviceId' | 'threads' | 'concurrency'>): EngineSpec {
  const threads =
    args.threads ?? (args.provider === 'cpu' ? Math.max(1, Math.floor(os.availableParallelism() / args.concurrency)) : undefined);
  return {
    module: new URL('../models/engine/load-model.ts', import.meta.url).href,
    exportName: 'loadModel',
    args: [args.modelDir, { provider: args.provider, deviceId: args.deviceId, threads }],
  };
}

export function workerName(deviceId: number | undefined): string {
  return `${os.hostname()}:${deviceId === undefined ? 'cpu' : `gpu${deviceId}`}:${process.pid}`;
}

/** `dailies worker`: runs until SIGTERM or SIGINT, then shuts down gracefully. */
export async function run(argv: string[]): Promise<number> {
  const args = parseWorkerArgs(argv);
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  const spec = engineSpec(args);
  const { config } = args;
  let modelName = 'unknown';
  const metrics = args.metrics ? createWorkerMetrics({ model: () => modelName, slots: args.concurrency, activeJobs: () => worker.activeJobs }) : null;
  const worker: RenderWorker = new RenderWorker({
    redis: redisOptionsFromUrl(args.redisUrl),
    // One queue per model: bots send a job to the queue of the model it asks for.
    queueName: modelQueueName(args.queueName, await readModelName(args.modelDir)),
    // the bot side reads the same variable, so both ends meet on the same keys
    prefix: config.DAILIES_PREFIX,
    // How soon a dead worker's job starts elsewhere: its lock must lapse, then a stall check see it.
    lockDurationMs: config.DAILIES_LOCK_DURATION_MS,
    stalledIntervalMs: config.DAILIES_STALLED_INTERVAL_MS,
    stallTimeoutMs: config.DAILIES_STALL_TIMEOUT_MS,
    workerId: workerName(args.deviceId),
    concurrency: args.concurrency,
    createModel: () => ThreadedVideoModel.start(spec),
    media: ffmpegRenderMedia(),
    store: await artifactStoreFromConfig(config),
    frameCheck: frameCheckLoader(config.DAILIES_FRAME_CHECK, (line) => processLogger().info(line)),
    signer: (model) => createFinalSigner({ dir: path.resolve(config.DAILIES_SIGNING_DIR), modelDir: args.modelDir, modelName: model.name }),
    ...(metrics && { onRendered: (outcome: 'completed' | 'failed', ms: number) => metrics.rendered(outcome, ms / 1000) }),
  });
  const serveMetrics =
    metrics && args.metrics
      ? async (model: string) => {
          modelName = model;
          const server = await startMetricsServer(
            { text: () => metrics.text(), contentType: metrics.contentType, health: () => ({ ok: !worker.closing, worker: worker.id, model, slots: args.concurrency, activeJobs: worker.activeJobs }) },
            args.metrics!,
          );
          processLogger().info(`worker ${worker.id}: metrics at ${server.url}/metrics`);
          return server;
        }
      : undefined;
  return runUntilSignalled(worker, args.graceMs, serveMetrics);
}

/**
 * Starts `worker` and closes it on the first SIGTERM/SIGINT. A second signal, or a shutdown that
 * overruns the grace period by a minute (an engine ignoring its abort), exits at once: the jobs'
 * locks then lapse and other workers pick them up through BullMQ's stalled-job check.
 */
export async function runUntilSignalled(
  worker: RenderWorker,
  graceMs: number,
  serveMetrics?: (model: string) => Promise<{ close(): Promise<void> }>,
): Promise<number> {
  let model;
  let metricsServer: { close(): Promise<void> } | undefined;
  try {
    model = await worker.start();
    metricsServer = await serveMetrics?.(model.name);
  } catch (error) {
    // Release Redis connections and threads, or the process would linger after the error.
    await worker.close(0);
    throw error;
  }
  const log = processLogger().child({ worker: worker.id });
  log.info(`worker ${worker.id} ready: model "${model.name}", queue "${worker.keys.queueName}"`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info(`worker ${worker.id}: ${signal}, finishing (up to ${graceMs / 1000} s)`);
  const force = () => {
    log.error(`worker ${worker.id}: forced exit`);
    process.exit(1);
  };
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  setTimeout(force, graceMs + 60_000).unref();
  await worker.close(graceMs);
  await metricsServer?.close();
  log.info(`worker ${worker.id}: stopped`);
  return 0;
}
