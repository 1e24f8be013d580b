import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { JobEvent, RenderJob } from '../src/core/ports/job-queue.ts';
import { DailiesError } from '../src/errors.ts';
import { BullmqJobQueue } from '../src/queue/bullmq-job-queue.ts';
import { ModelQueues } from '../src/queue/model-queues.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import { FsArtifactStore } from '../src/storage/fs-artifact-store.ts';
import { parseCliArgs, runIfMain, wholeNumber } from '../src/util/cli-args.ts';
import { freePort } from '../src/util/free-port.ts';
import { writeBenchJson } from '../src/util/stats.ts';
import { RenderWorker } from '../workers/worker.ts';
import { rawMedia, standInModel } from './pool-bench-stand-ins.ts';

/**
 * `npm run bench:scale`: how the pool grows, on a private redis-server started for the run (so
 * other work on the shared one does not enter its memory and CPU figures).
 *
 *   1. throughput   the same batch of built-in renders through 1, 2 and 4 `dailies worker`
 *                   processes (one CPU thread each); jobs per second and the ratio to 1.
 *   2. redis cost   one job's whole life (enqueue with fair share, a worker's fetch, progress,
 *                   completion, the bot's event stream) on a stand-in model: Redis commands and
 *                   Redis CPU per job, so how many jobs per second one Redis core serves.
 *   3. soak         10,000 jobs queued at once: Redis memory per waiting job; then drained by
 *                   stand-in workers with finished jobs kept only briefly: memory must come back
 *                   down to where it started (sampled as it drains).
 */

const USAGE = `Usage: npm run bench:scale -- [--jobs N] [--workers LIST] [--soak-jobs N] [--cost-jobs N] [--out FILE]

  --jobs N          built-in renders per throughput run (default 8)
  --workers LIST    worker process counts to compare (default 1,2,4)
  --cost-jobs N     stand-in jobs for the Redis cost run (default 300)
  --soak-jobs N     jobs queued at once for the soak (default 10000; 0 skips it)
  --out FILE        JSON results (default bench-results/scale.json)`;

const CLI = fileURLToPath(new URL('../cli/dailies.js', import.meta.url));

interface Options {
  jobs: number;
  workers: number[];
  costJobs: number;
  soakJobs: number;
  out: string;
}

function parseArgs(argv: string[]): Options | 'help' {
  const values = parseCliArgs(
    argv,
    { jobs: { type: 'string' }, workers: { type: 'string' }, 'cost-jobs': { type: 'string' }, 'soak-jobs': { type: 'string' }, out: { type: 'string' } },
    { command: 'npm run bench:scale --' },
  );
  if (values.help) return 'help';
  const workers = (values.workers ?? '1,2,4').split(',').map((w) => Number(w.trim()));
  if (!workers.length || workers.some((w) => !Number.isInteger(w) || w < 1 || w > 16)) {
    throw new DailiesError('bad_input', `--workers must list worker counts from 1 to 16 separated by commas, e.g. 1,2,4, not "${values.workers}".`);
  }
  return {
    jobs: wholeNumber('--jobs', values.jobs, 8, 1),
    workers,
    costJobs: wholeNumber('--cost-jobs', values['cost-jobs'], 300, 1),
    soakJobs: wholeNumber('--soak-jobs', values['soak-jobs'], 10_000, 0),
    out: values.out ?? 'bench-results/scale.json',
  };
}

// ---- a private Redis --------------------------------------------------------------------------

async function startPrivateRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => child.once('error', () => reject(new DailiesError('missing_dependency', 'redis-server is not installed; install it (`sudo apt-get install redis-server`) to run this benchmark.'))));
  failed.catch(() => {});
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      await Promise.race([probe.connect(), failed]);
      break;
    } catch (error) {
      if (error instanceof DailiesError || i > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  probe.disconnect();
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function redisInfo(redis: Redis): Promise<{ usedMemory: number; cpuSeconds: number; commands: number; evalsha: number }> {
  const [memory, cpu, commandstats] = await Promise.all([redis.info('memory'), redis.info('cpu'), redis.info('commandstats')]);
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? NaN);
  let commands = 0;
  let evalsha = 0;
  for (const m of commandstats.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) {
    // INFO itself is the benchmark's own probing, not the pool's work.
    if (m[1] === 'info') continue;
    commands += Number(m[2]);
    if (m[1] === 'evalsha' || m[1] === 'eval') evalsha += Number(m[2]);
  }
  return { usedMemory: field(memory, 'used_memory'), cpuSeconds: field(cpu, 'used_cpu_sys') + field(cpu, 'used_cpu_user'), commands, evalsha };
}

function benchJob(n: number, users: number, prefix: string, request: Partial<RenderJob['request']> = {}): RenderJob {
  const user = `u${n % users}`;
  return {
    v: 1,
    jobId: `${prefix}-${n}`,
    sessionId: 'scale-bench',
    version: 1,
    userId: user,
    channelKey: `local:c${n % 10}`,
    thread: { platform: 'local', channelId: `c${n % 10}`, threadId: 'scale-bench' },
    request: { prompt: 'a red circle moving left on a black background', negativePrompt: '', seed: n, takes: 1, quality: 'draft', ...request },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new DailiesError('unavailable', `The scale benchmark timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ---- 1. throughput with N worker processes ----------------------------------------------------

interface ThroughputRow {
  workers: number;
  jobs: number;
  wallMs: number;
  jobsPerSecond: number;
  ratioToOne: number;
}

async function throughputRun(redisUrl: string, workers: number, jobs: number, dir: string): Promise<Omit<ThroughputRow, 'ratioToOne'>> {
  const prefix = `scale-${randomBytes(3).toString('hex')}`;
  // The bot's own queue: one per model, and the CLI workers serve the built-in model's.
  const queue = new ModelQueues({ redis: redisOptionsFromUrl(redisUrl), prefix, perPersonCap: jobs + 1, positionUpdates: false, defaultModel: 'shapes-v1' });
  const done = new Set<string>();
  queue.onEvent((e: JobEvent) => {
    if (e.type === 'completed' || e.type === 'failed') done.add(e.jobId);
  });
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redisUrl, DAILIES_PREFIX: prefix, ARTIFACTS_DIR: path.join(dir, prefix), DAILIES_SIGNING_DIR: path.join(dir, 'signing'), LOG_LEVEL: 'warn' };
  delete env.ARTIFACTS_URL;
  const children: ChildProcess[] = [];
  try {
    await queue.eventsReady();
    for (let i = 0; i < workers; i++) {
      const child = spawn(process.execPath, [CLI, 'worker', '--threads', '1'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
    }
    // Ready means heartbeating: every process has loaded its model and takes jobs.
    await until(`${workers} worker(s) to load the model`, async () => ((await queue.liveSlots())['shapes-v1'] ?? 0) >= workers, 180_000, 200);
    const started = performance.now();
    for (let n = 0; n < jobs; n++) await queue.enqueue(benchJob(n, jobs, prefix));
    await until(`${jobs} renders to finish`, () => done.size >= jobs, 60_000 + jobs * 30_000);
    const wallMs = performance.now() - started;
    return { workers, jobs, wallMs, jobsPerSecond: (jobs * 1000) / wallMs };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await queue.close();
  }
}

// ---- 2 + 3. Redis cost per job, and the soak ---------------------------------------------------

function standInWorker(redisUrl: string, prefix: string, dir: string, concurrency: number): RenderWorker {
  return new RenderWorker({
    redis: redisOptionsFromUrl(redisUrl),
    prefix,
    workerId: `scale-stand-in-${randomBytes(2).toString('hex')}`,
    concurrency,
    createModel: async () => standInModel({ steps: 2, stepMs: 0, size: 16, frames: 4 }),
    media: rawMedia(),
    store: new FsArtifactStore({ root: dir }),
    progressIntervalMs: 0,
    log: () => {},
  });
}

async function redisCostRun(redisUrl: string, jobs: number, dir: string) {
  const prefix = `cost-${randomBytes(3).toString('hex')}`;
  const redis = new Redis(redisUrl);
  const queue = new BullmqJobQueue({ redis: redisOptionsFromUrl(redisUrl), prefix, perPersonCap: jobs + 1, positionUpdates: true });
  const worker = standInWorker(redisUrl, prefix, dir, 1);
  const done = new Set<string>();
  queue.onEvent((e) => {
    if (e.type === 'completed') done.add(e.jobId);
  });
  try {
    await queue.eventsReady();
    await worker.start();
    // Warm: scripts loaded, connections open.
    await queue.enqueue(benchJob(jobs, 50, prefix));
    await until('the warm-up job', () => done.size === 1, 30_000, 5);
    const before = await redisInfo(redis);
    const started = performance.now();
    // One person in ten channels at a time, like a busy server: fair share does real work.
    for (let n = 0; n < jobs; n++) await queue.enqueue(benchJob(n, 50, prefix));
    await until(`${jobs} stand-in jobs`, () => done.size === jobs + 1, 120_000, 5);
    const wallMs = performance.now() - started;
    // Heartbeats and stalled-job checks go on whether or not jobs run; they are small and counted.
    const after = await redisInfo(redis);
    const cpuMsPerJob = ((after.cpuSeconds - before.cpuSeconds) * 1000) / jobs;
    return {
      jobs,
      commandsPerJob: (after.commands - before.commands) / jobs,
      scriptCallsPerJob: (after.evalsha - before.evalsha) / jobs,
      redisCpuMsPerJob: cpuMsPerJob,
      jobsPerRedisCoreSecond: 1000 / cpuMsPerJob,
      poolJobsPerSecond: (jobs * 1000) / wallMs,
    };
  } finally {
    await worker.close(1_000);
    await queue.close();
    redis.disconnect();
  }
}

async function soakRun(redisUrl: string, jobs: number, dir: string) {
  const prefix = `soak-${randomBytes(3).toString('hex')}`;
  const redis = new Redis(redisUrl);
  // Finished jobs are kept 2 s here instead of 7 days, so the drain shows the clean-up working.
  const queue = new BullmqJobQueue({ redis: redisOptionsFromUrl(redisUrl), prefix, perPersonCap: jobs + 1, positionUpdates: false, retainFinishedMs: 2_000 });
  let completed = 0;
  queue.onEvent((e) => {
    if (e.type === 'completed') completed++;
  });
  const workers: RenderWorker[] = [];
  const samples: { completed: number; usedMemory: number }[] = [];
  try {
    await queue.eventsReady();
    const baseline = (await redisInfo(redis)).usedMemory;
    const enqueueStarted = performance.now();
    // 500 people in 10 channels: a realistic spread for the fair-share bookkeeping.
    for (let n = 0; n < jobs; n++) await queue.enqueue(benchJob(n, 500, prefix));
    const enqueueMs = performance.now() - enqueueStarted;
    const queued = (await redisInfo(redis)).usedMemory;

    for (let i = 0; i < 2; i++) workers.push(standInWorker(redisUrl, prefix, dir, 8));
    await Promise.all(workers.map((w) => w.start()));
    const drainStarted = performance.now();
    let nextSample = 0;
    await until(`${jobs} soak jobs to drain`, async () => {
      if (completed >= nextSample) {
        samples.push({ completed, usedMemory: (await redisInfo(redis)).usedMemory });
        nextSample += Math.ceil(jobs / 10);
      }
      return completed >= jobs;
    }, 30 * 60_000, 100);
    const drainMs = performance.now() - drainStarted;
    // The last finished jobs age out once newer ones finish; a few more let the clean-up catch up.
    await new Promise((r) => setTimeout(r, 2_500));
    for (let n = 0; n < 20; n++) await queue.enqueue(benchJob(jobs + n, 500, prefix));
    await until('the clean-up jobs', () => completed >= jobs + 20, 60_000, 20);
    const end = (await redisInfo(redis)).usedMemory;
    return {
      jobs,
      enqueueMsPerJob: enqueueMs / jobs,
      drainJobsPerSecond: (jobs * 1000) / drainMs,
      bytesPerWaitingJob: (queued - baseline) / jobs,
      baselineBytes: baseline,
      queuedBytes: queued,
      endBytes: end,
      endOverBaseline: end / baseline,
      drainSamples: samples,
    };
  } finally {
    await Promise.all(workers.map((w) => w.close(1_000)));
    await queue.close();
    redis.disconnect();
  }
}

// ---- the run ----------------------------------------------------------------------------------

export async function run(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-scale-'));
  const redis = await startPrivateRedis();
  try {
    console.log(`bench:scale: private redis-server at ${redis.url}, ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(2)}`);
    const rows: ThroughputRow[] = [];
    for (const workers of options.workers) {
      const row = await throughputRun(redis.url, workers, options.jobs, dir);
      rows.push({ ...row, ratioToOne: rows.length ? row.jobsPerSecond / rows[0]!.jobsPerSecond : 1 });
    }
    const cost = await redisCostRun(redis.url, options.costJobs, dir);
    const soak = options.soakJobs > 0 ? await soakRun(redis.url, options.soakJobs, dir) : null;
    const result = { measuredAt: new Date().toISOString(), host: { cores: os.availableParallelism(), loadAvg1m: os.loadavg()[0], node: process.version }, throughput: rows, redisCost: cost, soak };

    console.log(`\nThroughput, built-in model, ${options.jobs} renders (1 take, default steps), one CPU thread per worker process\n`);
    console.log('| worker processes | wall | renders/s | ratio to 1 |\n| --- | --- | --- | --- |');
    for (const r of rows) console.log(`| ${r.workers} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.jobsPerSecond.toFixed(2)} | ${r.ratioToOne.toFixed(2)}x |`);
    console.log(`\nRedis per job (${cost.jobs} stand-in jobs: fair-share enqueue, fetch, progress, completion, events)\n`);
    console.log('| measure | value |\n| --- | --- |');
    console.log(`| Redis commands per job (incl. those inside scripts) | ${cost.commandsPerJob.toFixed(1)} |`);
    console.log(`|   of which script calls | ${cost.scriptCallsPerJob.toFixed(1)} |`);
    console.log(`| Redis CPU per job | ${cost.redisCpuMsPerJob.toFixed(2)} ms |`);
    console.log(`| jobs per second one Redis core serves | ${cost.jobsPerRedisCoreSecond.toFixed(0)} |`);
    console.log(`| stand-in pool throughput in that run | ${cost.poolJobsPerSecond.toFixed(0)} jobs/s |`);
    if (soak) {
      const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
      console.log(`\nSoak: ${soak.jobs} jobs queued at once, then drained by 2 stand-in workers (finished jobs kept 2 s)\n`);
      console.log('| measure | value |\n| --- | --- |');
      console.log(`| enqueue, per job | ${soak.enqueueMsPerJob.toFixed(2)} ms |`);
      console.log(`| Redis memory per waiting job | ${(soak.bytesPerWaitingJob / 1024).toFixed(2)} KiB |`);
      console.log(`| Redis memory: before / all queued / after the drain | ${mb(soak.baselineBytes)} / ${mb(soak.queuedBytes)} / ${mb(soak.endBytes)} (${soak.endOverBaseline.toFixed(2)}x before) |`);
      console.log(`| drain | ${soak.drainJobsPerSecond.toFixed(0)} jobs/s |`);
      console.log(`| memory while draining (jobs done: MB) | ${soak.drainSamples.map((s) => `${s.completed}: ${(s.usedMemory / 1024 / 1024).toFixed(1)}`).join(', ')} |`);
    }
    const out = path.resolve(options.out);
    await writeBenchJson(out, result);
    console.log(`\nwrote ${out}`);
    return 0;
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, run);
