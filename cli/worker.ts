import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { builtinModelDir } from '../models/engine/load-model.ts';
import { loadConfig } from '../src/config.ts';
import { DailiesError } from '../src/errors.ts';
import { redisOptionsFromUrl, redisUrlError } from '../src/queue/redis-options.ts';
import { FsArtifactStore } from '../src/storage/fs-artifact-store.ts';
import type { EngineSpec } from './engine-protocol.ts';
import { ffmpegRenderMedia } from './render-media.ts';
import { ThreadedVideoModel } from './threaded-video-model.ts';
import { RenderWorker } from './worker.ts';

const USAGE = `Usage: dailies worker [options]

Runs one worker process of the render pool: one per GPU, on as many machines as you like,
all pointed at the same Redis.

Options:
  --device N         Render on GPU N (CUDA provider, device N); also names the worker
  --concurrency N    Render slots in this process, one job each (default 1)
  --model DIR        Model folder (default $MODEL_DIR, else the built-in model)
  --provider P       cpu or cuda (default cpu, or cuda with --device)
  --threads N        CPU threads per slot (default: cores / slots)
  --redis URL        Redis address (default $REDIS_URL or redis://127.0.0.1:6379)
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
}

export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerArgs | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        device: { type: 'string' },
        concurrency: { type: 'string' },
        model: { type: 'string' },
        provider: { type: 'string' },
        threads: { type: 'string' },
        redis: { type: 'string' },
        queue: { type: 'string' },
        grace: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (cause) {
    throw new DailiesError('bad_input', `${(cause as Error).message}; run \`dailies worker --help\` for the options.`, { cause });
  }
  if (values.help) return 'help';
  const deviceId = values.device === undefined ? undefined : int('--device', values.device, 0);
  const provider = values.provider ?? (deviceId === undefined ? 'cpu' : 'cuda');
  if (provider !== 'cpu' && provider !== 'cuda') {
    throw new DailiesError('bad_input', `--provider must be cpu or cuda, not "${provider}".`);
  }
  if (deviceId !== undefined && provider !== 'cuda') {
    throw new DailiesError('bad_input', '--device picks a GPU, so it needs --provider cuda (or no --provider).');
  }
  const redisUrl = values.redis ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const badRedis = redisUrlError(values.redis !== undefined ? '--redis' : 'REDIS_URL', redisUrl, values.redis !== undefined ? 'fix the option and run again' : 'fix the variable and restart');
  if (badRedis) throw new DailiesError('bad_input', badRedis);
  return {
    deviceId,
    concurrency: values.concurrency === undefined ? 1 : int('--concurrency', values.concurrency, 1),
    modelDir: path.resolve(values.model ?? env.MODEL_DIR ?? builtinModelDir()),
    provider,
    threads: values.threads === undefined ? undefined : int('--threads', values.threads, 1),
    redisUrl,
    queueName: values.queue ?? env.DAILIES_QUEUE ?? 'renders',
    graceMs: values.grace === undefined ? 30_000 : int('--grace', values.grace, 0) * 1000,
  };
}

/** The engine as loaded in each slot's thread: models/engine/load-model.ts `loadModel(dir, options)`. */
export function engineSpec(args: WorkerArgs): EngineSpec {
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
  const config = loadConfig();
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
    store: new FsArtifactStore(),
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

function int(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new DailiesError('bad_input', `${flag} must be a whole number of at least ${min}, not "${raw}".`);
  return n;
}
