import os from 'node:os';
import path from 'node:path';
import { builtinModelDir } from '../models/engine/load-model.ts';
import { DEFAULT_REDIS_URL, loadConfigWithRedisFlag, type Config } from '../src/config.ts';
import { DailiesError } from '../src/errors.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import { FsArtifactStore } from '../src/storage/fs-artifact-store.ts';
import { parseCliArgs, wholeNumber } from '../src/util/cli-args.ts';
import type { EngineSpec } from '../workers/engine-protocol.ts';
import { ffmpegRenderMedia } from '../workers/render-media.ts';
import { ThreadedVideoModel } from '../workers/threaded-video-model.ts';
import { RenderWorker } from '../workers/worker.ts';
import { frameCheckLoader } from '../workers/frame-check-loader.ts';
import { createFinalSigner } from '../workers/final-signer.ts';

const USAGE = `Usage: dailies worker [options]

Runs one worker process of the render pool: one per GPU, on as many machines as you like,
all pointed at the same Redis.

Options:
  --device N         Render on GPU N (CUDA provider, device N); also names the worker
  --concurrency N    Render slots in this process, one job each (default 1)
  --model DIR        Model folder (default $MODEL_DIR, else the built-in model)
  --provider P       cpu or cuda (default cpu, or cuda with --device)
  --threads N        CPU threads per slot (default: cores / slots)
  --redis URL        Redis address (default $REDIS_URL or ${DEFAULT_REDIS_URL})
  --queue NAME       Queue name (default $DAILIES_QUEUE or renders)
  --grace SECONDS    On SIGTERM, time running renders get to finish before they are
                     handed back to the queue (default 30)
  -h, --help         Show this help

Artifacts are written under $ARTIFACTS_DIR (default ./.artifacts).`;

export interface WorkerArgs {
  deviceId: number | undefined;
  concurrency: number;
  modelDir: string;
  provider: 'cpu' | 'cuda';
  threads: number | undefined;
  redisUrl: string;
  queueName: string;
  graceMs: number;
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
  return {
    deviceId,
    concurrency: wholeNumber('--concurrency', values.concurrency, 1, 1),
    modelDir: path.resolve(values.model ?? config.MODEL_DIR ?? builtinModelDir()),
    provider,
    threads: wholeNumber('--threads', values.threads, undefined, 1),
    redisUrl: config.REDIS_URL,
    queueName: values.queue ?? config.DAILIES_QUEUE,
    graceMs: wholeNumber('--grace', values.grace, 30, 0) * 1000,
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
  const worker = new RenderWorker({
    redis: redisOptionsFromUrl(args.redisUrl),
    queueName: args.queueName,
    // the bot side reads the same variable, so both ends meet on the same keys
    prefix: config.DAILIES_PREFIX,
    // How soon a dead worker's job starts elsewhere: its lock must lapse, then a stall check see it.
    lockDurationMs: config.DAILIES_LOCK_DURATION_MS,
    stalledIntervalMs: config.DAILIES_STALLED_INTERVAL_MS,
    workerId: workerName(args.deviceId),
    concurrency: args.concurrency,
    createModel: () => ThreadedVideoModel.start(spec),
    media: ffmpegRenderMedia(),
    store: new FsArtifactStore({ root: path.resolve(config.ARTIFACTS_DIR) }),
    frameCheck: frameCheckLoader(config.DAILIES_FRAME_CHECK, (line) => console.log(line)),
    signer: (model) => createFinalSigner({ dir: path.resolve(config.DAILIES_SIGNING_DIR), modelDir: args.modelDir, modelName: model.name }),
  });
  return runUntilSignalled(worker, args.graceMs);
}

/**
 * Starts `worker` and closes it on the first SIGTERM/SIGINT. A second signal, or a shutdown that
 * overruns the grace period by a minute (an engine ignoring its abort), exits at once: the jobs'
 * locks then lapse and other workers pick them up through BullMQ's stalled-job check.
 */
export async function runUntilSignalled(worker: RenderWorker, graceMs: number): Promise<number> {
  let model;
  try {
    model = await worker.start();
  } catch (error) {
    // Release Redis connections and threads, or the process would linger after the error.
    await worker.close(0);
    throw error;
  }
  console.log(`worker ${worker.id} ready: model "${model.name}", queue "${worker.keys.queueName}"`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  console.log(`worker ${worker.id}: ${signal}, finishing (up to ${graceMs / 1000} s)`);
  const force = () => {
    console.error(`worker ${worker.id}: forced exit`);
    process.exit(1);
  };
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  setTimeout(force, graceMs + 60_000).unref();
  await worker.close(graceMs);
  console.log(`worker ${worker.id}: stopped`);
  return 0;
}
