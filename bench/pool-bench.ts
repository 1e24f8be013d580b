import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { ffmpegRenderMedia } from '../workers/render-media.ts';
import { RenderWorker } from '../workers/worker.ts';
import { DailiesError } from '../src/errors.ts';
import { FsArtifactStore } from '../src/storage/fs-artifact-store.ts';
import { BullmqJobQueue } from '../src/queue/bullmq-job-queue.ts';
import type { FairMode } from '../src/queue/fair-share.ts';
import type { JobEvent, RenderJob } from '../src/core/ports/job-queue.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import { redactUrl } from '../src/redact-url.ts';
import { rawMedia, standInModel } from './pool-bench-stand-ins.ts';
import { deleteKeysStartingWith } from '../src/redis/delete-keys.ts';
import { percentile, writeBenchJson } from '../src/util/stats.ts';
import { parseCliArgs, wholeNumber } from '../src/util/cli-args.ts';
import { loadConfigWithRedisFlag } from '../src/config.ts';

/**
 * `dailies bench-pool`: what the worker pool itself costs, with inference taken out.
 *
 *   latency   enqueue() call, enqueue -> a worker starts the job (BullMQ's processedOn, same
 *             clock), start -> 'started' event, worker finish -> 'completed' event, and the
 *             whole per-job overhead (enqueue -> 'completed' event, minus the model's time),
 *             one job at a time on an idle worker, raw-frame media.
 *   encode    the same with real ffmpeg encodes of a small clip: what encoding and storing one
 *             take adds per job.
 *   fairness  two workers; person A enqueues 20 renders, then B one. B's start position and wait
 *             (in job durations), fair share against plain FIFO.
 *
 * Command latencies belong to the bot side; pass `hooks` to include them.
 */

export interface PoolBenchHooks {
  /** The core's answer to /video commands in flight at once, in ms (bench/ack-bench.ts). */
  commandAnswerSamplesMs?: () => Promise<number[]>;
  /**
   * The ack as Discord sees it: INTERACTION_CREATE sent -> the adapter's deferred callback
   * received, in ms (bench/discord-ack-bench.ts). This is what the 3 s deadline applies to.
   */
  discordAckSamplesMs?: () => Promise<number[]>;
  /**
   * The web chat's ack: POST /api/commands sent -> answered, from a client process, and the same
   * bursts to a no-op HTTP server (the floor HTTP itself costs here), in ms (bench/web-ack-bench.ts).
   */
  webChatAckSamplesMs?: () => Promise<{ samplesMs: number[]; floorSamplesMs: number[] }>;
}

export interface PoolBenchOptions {
  redisUrl: string;
  jobs: number;
  encodeJobs: number;
  jobMs: number;
  out: string;
}

const USAGE = `Usage: dailies bench-pool [--redis URL] [--jobs N] [--encode-jobs N] [--job-ms MS] [--out FILE]

Measures the render pool without inference on a throwaway queue (its keys are deleted after).
  --jobs N          jobs for the latency run (default 200)
  --encode-jobs N   jobs for the run with real ffmpeg encodes (default 10; 0 skips it)
  --job-ms MS       stand-in render time in the fairness run (default 200)
  --out FILE        JSON results (default bench-results/pool.json)`;

export async function run(argv: string[], hooks: PoolBenchHooks = {}): Promise<number> {
  const options = parsePoolBenchArgs(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const redis = redisOptionsFromUrl(options.redisUrl);
  const prefix = `dailies-bench-${randomBytes(4).toString('hex')}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-bench-pool-'));
  try {
    console.log(`bench-pool: Redis ${redactUrl(options.redisUrl)}, ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(2)}`);
    const latency = await latencyRun(redis, prefix, dir, options.jobs, 'raw');
    const encode = options.encodeJobs > 0 ? await latencyRun(redis, prefix, dir, options.encodeJobs, 'ffmpeg') : null;
    const fair = await fairnessRun(redis, prefix, dir, 'fair', options.jobMs);
    const fifo = await fairnessRun(redis, prefix, dir, 'fifo', options.jobMs);
    const answer = hooks.commandAnswerSamplesMs ? await hooks.commandAnswerSamplesMs() : null;
    const discordAck = hooks.discordAckSamplesMs ? await hooks.discordAckSamplesMs() : null;
    const webAck = hooks.webChatAckSamplesMs ? await hooks.webChatAckSamplesMs() : null;

    const results = {
      measuredAt: new Date().toISOString(),
      host: { cores: os.availableParallelism(), loadAvg1m: os.loadavg()[0], node: process.version },
      latency,
      encode,
      fairness: { fair, fifo },
      commandAnswerP99Ms: answer ? percentile(answer, 99) : null,
      discordAckP99Ms: discordAck ? percentile(discordAck, 99) : null,
      webChatAckP99Ms: webAck ? percentile(webAck.samplesMs, 99) : null,
      noOpHttpFloorP99Ms: webAck ? percentile(webAck.floorSamplesMs, 99) : null,
      notes: [
        ...(answer ? [] : ['commandAnswerP99Ms: measured by the core (pass hooks.commandAnswerSamplesMs)']),
        ...(discordAck ? [] : ['discordAckP99Ms: measured against the Discord stand-in (pass hooks.discordAckSamplesMs)']),
        ...(webAck ? [] : ['webChatAckP99Ms: measured over HTTP (pass hooks.webChatAckSamplesMs)']),
      ],
    };
    printTable({ ...results, commandAnswerMs: answer, discordAckMs: discordAck, webAck });
    await writeBenchJson(options.out, results);
    console.log(`\nwrote ${options.out}`);
    return 0;
  } finally {
    await deleteKeys(redis, prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

interface LatencyResult {
  jobs: number;
  media: 'raw' | 'ffmpeg';
  enqueueCallMs: Stats;
  enqueueToStartMs: Stats;
  startToStartedEventMs: Stats;
  finishToCompletedEventMs: Stats;
  /** Enqueue -> 'completed' event, minus the model's own time. */
  overheadPerJobMs: Stats;
  /** Of which the worker's processor (inputs, encode, store) outside the model. */
  processorOverheadMs: Stats;
}

async function latencyRun(redis: RedisOptions, prefix: string, dir: string, jobs: number, media: 'raw' | 'ffmpeg'): Promise<LatencyResult> {
  const queueName = `latency-${media}`;
  const queue = new BullmqJobQueue({ redis, prefix, queueName, perPersonCap: jobs + 1, positionUpdates: false });
  const worker = new RenderWorker({
    redis,
    prefix,
    queueName,
    workerId: 'bench-worker',
    createModel: async () => standInModel({ steps: 1, stepMs: 0, size: 64, frames: 16 }),
    media: media === 'raw' ? rawMedia() : ffmpegRenderMedia(),
    store: new FsArtifactStore({ root: dir }),
    log: () => {},
  });
  const seen = new Map<string, Map<JobEvent['type'], { at: number; event: JobEvent }>>();
  queue.onEvent((event) => {
    const at = Date.now();
    if (!seen.has(event.jobId)) seen.set(event.jobId, new Map());
    seen.get(event.jobId)!.set(event.type, { at, event });
  });
  const bull = new Queue(queueName, { connection: redis, prefix });
  const samples = { enqueue: [] as number[], start: [] as number[], startedEvent: [] as number[], completedEvent: [] as number[], overhead: [] as number[], processor: [] as number[] };
  try {
    await queue.eventsReady();
    await worker.start();
    for (let i = 0; i < jobs; i++) {
      const job = benchJob(`lat-${media}-${i}`, 'bench-user', 'bench:channel');
      const t0 = Date.now();
      await queue.enqueue(job);
      samples.enqueue.push(Date.now() - t0);
      const done = await waitFor(() => seen.get(job.jobId)?.get('completed'));
      const stored = (await bull.getJob(job.jobId))!;
      const started = seen.get(job.jobId)?.get('started');
      const result = done.event as Extract<JobEvent, { type: 'completed' }>;
      samples.start.push(stored.processedOn! - t0);
      if (started) samples.startedEvent.push(started.at - stored.processedOn!);
      samples.completedEvent.push(done.at - stored.finishedOn!);
      const modelMs = result.timingsMs.generate ?? 0;
      samples.overhead.push(done.at - t0 - modelMs);
      samples.processor.push((result.timingsMs.total ?? 0) - modelMs);
    }
  } finally {
    await worker.close(1_000);
    await bull.close();
    await queue.close();
  }
  return {
    jobs,
    media,
    enqueueCallMs: stats(samples.enqueue),
    enqueueToStartMs: stats(samples.start),
    startToStartedEventMs: stats(samples.startedEvent),
    finishToCompletedEventMs: stats(samples.completedEvent),
    overheadPerJobMs: stats(samples.overhead),
    processorOverheadMs: stats(samples.processor),
  };
}

interface FairnessResult {
  mode: FairMode;
  workers: number;
  jobMs: number;
  /** 1-based: B was the n-th of the 21 jobs to start. */
  bStartPosition: number;
  /** A's jobs that started after B. */
  aJobsAfterB: number;
  /** B's wait from enqueue to start, in mean job durations. */
  bWaitInJobDurations: number;
  bWaitMs: number;
  meanJobMs: number;
}

async function fairnessRun(redis: RedisOptions, prefix: string, dir: string, mode: FairMode, jobMs: number): Promise<FairnessResult> {
  const queueName = `fairness-${mode}`;
  const steps = 4;
  const queue = new BullmqJobQueue({ redis, prefix, queueName, mode, perPersonCap: 25, positionUpdates: false });
  const workers = [1, 2].map(
    (n) =>
      new RenderWorker({
        redis,
        prefix,
        queueName,
        workerId: `bench-${mode}-${n}`,
        createModel: async () => standInModel({ steps, stepMs: jobMs / steps, size: 16, frames: 4 }),
        media: rawMedia(),
        store: new FsArtifactStore({ root: dir }),
        log: () => {},
      }),
  );
  const startOrder: string[] = [];
  const completed = new Set<string>();
  queue.onEvent((e) => {
    if (e.type === 'started') startOrder.push(e.jobId);
    if (e.type === 'completed') completed.add(e.jobId);
  });
  const bull = new Queue(queueName, { connection: redis, prefix });
  try {
    await queue.eventsReady();
    await Promise.all(workers.map((w) => w.start()));
    const a = Array.from({ length: 20 }, (_, i) => benchJob(`${mode}-a-${i}`, 'A', 'bench:busy'));
    await Promise.all(a.map((job) => queue.enqueue(job)));
    const b = benchJob(`${mode}-b`, 'B', 'bench:busy');
    const bEnqueued = Date.now();
    await queue.enqueue(b);
    await waitFor(() => completed.size === 21 || undefined, 120_000);
    const jobs = await Promise.all([...a, b].map((j) => bull.getJob(j.jobId)));
    const durations = jobs.map((j) => j!.finishedOn! - j!.processedOn!);
    const meanJobMs = durations.reduce((x, y) => x + y, 0) / durations.length;
    const bJob = jobs.at(-1)!;
    const bStartPosition = startOrder.indexOf(b.jobId) + 1;
    const bWaitMs = bJob.processedOn! - bEnqueued;
    return {
      mode,
      workers: 2,
      jobMs,
      bStartPosition,
      aJobsAfterB: 21 - bStartPosition,
      bWaitInJobDurations: round(bWaitMs / meanJobMs, 2),
      bWaitMs,
      meanJobMs: round(meanJobMs, 1),
    };
  } finally {
    await Promise.all(workers.map((w) => w.close(1_000)));
    await bull.close();
    await queue.close();
  }
}

function benchJob(jobId: string, userId: string, channelKey: string): RenderJob {
  return {
    v: 1,
    jobId,
    sessionId: 'bench',
    version: 1,
    userId,
    channelKey,
    thread: { platform: 'local', channelId: 'bench', threadId: 'bench' },
    request: { prompt: 'benchmark', negativePrompt: '', seed: 1, takes: 1, quality: 'draft' },
  };
}

interface Stats {
  p50: number;
  p99: number;
  mean: number;
  max: number;
  n: number;
}

function stats(values: number[]): Stats {
  if (!values.length) return { p50: NaN, p99: NaN, mean: NaN, max: NaN, n: 0 };
  return {
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length, 2),
    max: Math.max(...values),
    n: values.length,
  };
}

function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

async function waitFor<T>(check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new DailiesError('unavailable', 'The pool benchmark timed out waiting for its workers; is Redis busy?');
    await new Promise((r) => setTimeout(r, 2));
  }
}

function printTable(r: {
  latency: LatencyResult;
  encode: LatencyResult | null;
  fairness: { fair: FairnessResult; fifo: FairnessResult };
  commandAnswerMs: number[] | null;
  discordAckMs: number[] | null;
  webAck: { samplesMs: number[]; floorSamplesMs: number[] } | null;
}): void {
  const rows: [string, string, string][] = [];
  const add = (name: string, s: Stats) => rows.push([name, `${s.p50}`, `${s.p99}`]);
  const l = r.latency;
  add('enqueue() call', l.enqueueCallMs);
  add('enqueue -> worker start', l.enqueueToStartMs);
  add("start -> 'started' event", l.startToStartedEventMs);
  add("finish -> 'completed' event", l.finishToCompletedEventMs);
  add('overhead per job (no encode)', l.overheadPerJobMs);
  if (r.encode) {
    add('overhead per job (ffmpeg, 64px x16)', r.encode.overheadPerJobMs);
    add('  of which encode + store', r.encode.processorOverheadMs);
  }
  const commandRow = (name: string, samples: number[] | null, missing: string) =>
    rows.push(samples ? [name, `${round(percentile(samples, 50), 1)}`, `${round(percentile(samples, 99), 1)}`] : [name, '-', missing]);
  commandRow('command answer (core)', r.commandAnswerMs, '(core)');
  commandRow('command ack (Discord, to platform)', r.discordAckMs, '(Discord)');
  commandRow('command ack (web chat, over HTTP)', r.webAck?.samplesMs ?? null, '(web chat)');
  commandRow('  floor: no-op HTTP server, same client', r.webAck?.floorSamplesMs ?? null, '(web chat)');
  console.log(`\nLatency, ms (${l.jobs} jobs, one at a time)`);
  console.log(`${'measure'.padEnd(38)} ${'p50'.padStart(8)} ${'p99'.padStart(8)}`);
  for (const [name, p50, p99] of rows) console.log(`${name.padEnd(38)} ${p50.padStart(8)} ${p99.padStart(8)}`);
  if (r.commandAnswerMs || r.discordAckMs || r.webAck) console.log('(command rows: bursts of /video in flight at once; per-burst tables in ack.json, ack-discord.json and ack-web.json beside this file)');

  console.log(`\nFairness: 2 workers, A enqueues 20, then B 1 (job ~${r.fairness.fair.jobMs} ms)`);
  console.log(`${'mode'.padEnd(8)} ${'B starts #'.padStart(11)} ${'A after B'.padStart(10)} ${'B wait (jobs)'.padStart(14)} ${'B wait ms'.padStart(10)}`);
  for (const f of [r.fairness.fair, r.fairness.fifo]) {
    console.log(`${f.mode.padEnd(8)} ${String(f.bStartPosition).padStart(11)} ${String(f.aJobsAfterB).padStart(10)} ${String(f.bWaitInJobDurations).padStart(14)} ${String(f.bWaitMs).padStart(10)}`);
  }
}

async function deleteKeys(redis: RedisOptions, prefix: string): Promise<void> {
  const client = new Redis(redis);
  try {
    await deleteKeysStartingWith(client, `${prefix}:`);
  } finally {
    client.disconnect();
  }
}

/** `dailies bench-pool`'s options; --redis stands in for REDIS_URL (src/config.ts). */
export function parsePoolBenchArgs(argv: string[]): PoolBenchOptions | 'help' {
  const values = parseCliArgs(
    argv,
    { redis: { type: 'string' }, jobs: { type: 'string' }, 'encode-jobs': { type: 'string' }, 'job-ms': { type: 'string' }, out: { type: 'string' } },
    { command: 'dailies bench-pool' },
  );
  if (values.help) return 'help';
  return {
    redisUrl: loadConfigWithRedisFlag(values.redis).REDIS_URL,
    jobs: wholeNumber('--jobs', values.jobs, 200, 1),
    encodeJobs: wholeNumber('--encode-jobs', values['encode-jobs'], 10, 0),
    jobMs: wholeNumber('--job-ms', values['job-ms'], 200, 1),
    out: values.out ?? 'bench-results/pool.json',
  };
}
