import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisOptions } from 'ioredis';
import { Redis } from 'ioredis';
import { builtinModelDir, loadModel } from '../models/engine/load-model.ts';
import { loadConfigWithRedisFlag } from '../src/config.ts';
import type { JobEvent, RenderJob } from '../src/core/ports/job-queue.ts';
import type { VideoModel } from '../src/core/ports/video-model.ts';
import { CONTINUATION_STRENGTH, planSegments } from '../src/core/segment-plan.ts';
import { BullmqJobQueue } from '../src/queue/bullmq-job-queue.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import { redactUrl } from '../src/redact-url.ts';
import { deleteKeysStartingWith } from '../src/redis/delete-keys.ts';
import { FsArtifactStore } from '../src/storage/fs-artifact-store.ts';
import { parseCliArgs, runIfMain, wholeNumber } from '../src/util/cli-args.ts';
import { writeBenchJson } from '../src/util/stats.ts';
import type { EngineSpec } from '../workers/engine-protocol.ts';
import { ffmpegRenderMedia } from '../workers/render-media.ts';
import { RenderProcessor, type YieldPolicy } from '../workers/render-processor.ts';
import { ThreadedVideoModel } from '../workers/threaded-video-model.ts';
import { RenderWorker } from '../workers/worker.ts';

/**
 * `npm run bench:chain`: minute-long renders as chains of model windows, on the built-in model with
 * real ffmpeg, Redis and BullMQ, one worker as `dailies worker` runs it (engine in its thread).
 *
 *   a. speed     a 60-s chain (480 frames, 40 segments), enqueue to completed, against 40 x one
 *                segment's time, the median of model calls on the worker's own engine thread
 *                (target <= 1.2x): against 40 windows from noise, and against the chain's own
 *                mix, one window from noise and 39 continued ones (known frames at
 *                CONTINUATION_STRENGTH run about 60% of the steps). Everything else the chain does
 *                (stored segments, known frames read back, progress, previews, the final encode
 *                of 480 frames) is in the ratio. Measured with hand-backs only when someone waits
 *                (the default: none here) and after every segment: the difference is the cost of
 *                taking turns.
 *   b. memory    peak RSS of a process rendering 60 s against one rendering 2 s, each in a child
 *                process of its own (target <= 1.5x); ffmpeg's own processes are not counted.
 *   c. fairness  one worker busy with a 60-s chain; someone else's 2-s render is submitted in
 *                its third segment: how many segment durations until it starts (target <= 2).
 *
 * The machine is shared and noisy: figures are ratios measured back to back.
 */

const USAGE = `Usage: npm run bench:chain -- [--redis URL] [--seconds N] [--runs N] [--out FILE]

Times chained renders on the built-in model on a throwaway queue (its keys are deleted after).
  --seconds N   length of the long render, 3-60 (default 60)
  --runs N      one-window renders timed for the segment time (default 5)
  --out FILE    JSON results (default bench-results/chain.json)
DAILIES_BENCH_DEBUG=1 prints every job event and the worker's log to stderr.`;

const FPS = 8;
const PROMPT = 'a red circle moving right on a blue background';
const OTHER_PROMPT = 'a green square still on a white background';

interface Options {
  redisUrl: string;
  seconds: number;
  runs: number;
  out: string;
}

export async function run(argv: string[]): Promise<number> {
  const child = argv.indexOf('--child-rss');
  if (child >= 0) return rssChild(Number(argv[child + 1]));
  const values = parseCliArgs(argv, { redis: { type: 'string' }, seconds: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' } }, { command: 'npm run bench:chain --' });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const options: Options = {
    redisUrl: loadConfigWithRedisFlag(values.redis).REDIS_URL,
    seconds: wholeNumber('--seconds', values.seconds, 60, 3),
    runs: wholeNumber('--runs', values.runs, 5, 1),
    out: values.out ?? 'bench-results/chain.json',
  };
  const redis = redisOptionsFromUrl(options.redisUrl);
  const prefix = `dailies-bench-chain-${randomBytes(4).toString('hex')}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-bench-chain-'));
  const frames = options.seconds * FPS;
  const segments = planSegments({ frames, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 0 }).length;
  console.log(`bench-chain: Redis ${redactUrl(options.redisUrl)}, ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(2)}; ${options.seconds} s = ${frames} frames = ${segments} segments`);
  try {
    const pool = new BenchPool(redis, prefix, dir);
    try {
      // a. speed, with no one waiting (hand-backs never happen), then a hand-back after every segment.
      const quiet = await pool.speed('when-waiting', frames, options.runs);
      const turns = await pool.speed('always', frames, options.runs);
      // c. fairness.
      const fairness = await pool.fairness(frames);
      // b. memory, each render in its own process.
      const rssShort = await spawnRss(16);
      const rssLong = await spawnRss(frames);
      const results = {
        measuredAt: new Date().toISOString(),
        host: { cores: os.availableParallelism(), loadAvg1m: os.loadavg()[0], node: process.version },
        seconds: options.seconds,
        frames,
        segments,
        speed: { whenWaiting: quiet, always: turns, handBackMs: round((turns.chainMs - quiet.chainMs) / Math.max(1, segments - 1)), targetRatio: 1.2 },
        memory: { shortKb: rssShort, longKb: rssLong, ratio: round(rssLong.maxRssKb / rssShort.maxRssKb), targetRatio: 1.5 },
        fairness: { ...fairness, targetSegments: 2 },
      };
      printTable(results);
      await writeBenchJson(options.out, results);
      console.log(`\nwrote ${options.out}`);
    } finally {
      await pool.close();
    }
    return 0;
  } finally {
    const client = new Redis(redis);
    await deleteKeysStartingWith(client, `${prefix}:`).catch(() => {});
    client.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
}

function builtinSpec(): EngineSpec {
  // onnxruntime's own thread count: on this shared two-core machine an explicit 2 (what
  // `dailies worker` passes for one slot) measured 3x slower, its threads spinning against the
  // other load; a ratio against a slow segment would flatter the chain.
  return { module: new URL('../models/engine/load-model.ts', import.meta.url).href, exportName: 'loadModel', args: [builtinModelDir(), {}] };
}

let seq = 0;
function job(userId: string, request: Partial<RenderJob['request']> = {}): RenderJob {
  return {
    v: 1,
    jobId: `bench-${process.pid}-${++seq}-${randomBytes(3).toString('hex')}`,
    sessionId: 'bench',
    version: 1,
    userId,
    channelKey: 'local:bench',
    thread: { platform: 'local', channelId: 'bench', threadId: 'bench' },
    request: { prompt: PROMPT, negativePrompt: '', seed: 7, takes: 1, quality: 'draft', ...request },
  };
}

interface SpeedResult {
  policy: YieldPolicy;
  /** Median time of one model window from noise (a 2-s render's model call) on the worker's engine thread, ms. */
  segmentMs: number;
  /** Median time of a continued window (4 known frames, CONTINUATION_STRENGTH: fewer steps), ms. */
  continuationMs: number;
  /** One window from noise + (segments - 1) continued windows, ms. */
  ownSegmentsMs: number;
  /** chainMs / ownSegmentsMs: everything the chain adds to its model calls. */
  ownRatio: number;
  /** Median wall time of a whole 2-s render (enqueue -> completed), ms. */
  shortRenderMs: number;
  chainMs: number;
  chainRunsMs: number[];
  /** The final encode of the whole video, ms. */
  encodeMs: number;
  handBacks: number;
  /** chainMs / (segments x segmentMs): against n windows from noise. */
  ratio: number;
}

class BenchPool {
  private readonly queue: BullmqJobQueue;
  private readonly events: { at: number; event: JobEvent }[] = [];
  private worker: RenderWorker | undefined;
  private model: Promise<ThreadedVideoModel> | undefined;

  constructor(
    private readonly redis: RedisOptions,
    private readonly prefix: string,
    private readonly dir: string,
  ) {
    this.queue = new BullmqJobQueue({ redis, prefix, perPersonCap: 10, positionUpdates: false, onError: () => {} });
    this.queue.onEvent((event) => {
      if (process.env.DAILIES_BENCH_DEBUG) console.error(JSON.stringify(event).slice(0, 160));
      this.events.push({ at: performance.now(), event });
    });
  }

  /** One worker with `policy`, on one engine thread kept across the runs (loading it is not measured). */
  private async startWorker(policy: YieldPolicy): Promise<void> {
    await this.worker?.close(5_000);
    this.model ??= ThreadedVideoModel.start(builtinSpec());
    const model = await this.model;
    // Each worker gets the same engine thread; closing a worker must not stop it.
    const shared: VideoModel & { readonly alive: boolean } = {
      name: model.name,
      defaults: model.defaults,
      get alive() {
        return model.alive;
      },
      generate: (request, opts) => model.generate(request, opts),
      dispose: async () => {},
    };
    this.worker = new RenderWorker({
      redis: this.redis,
      prefix: this.prefix,
      workerId: `bench-${policy}`,
      createModel: async () => shared,
      media: ffmpegRenderMedia(),
      store: new FsArtifactStore({ root: this.dir }),
      yieldPolicy: policy,
      log: (line) => process.env.DAILIES_BENCH_DEBUG && console.error(line),
    });
    await this.worker.start();
    await this.queue.eventsReady();
  }

  private async until<T extends JobEvent['type']>(jobId: string, type: T, timeoutMs = 600_000): Promise<{ at: number; event: Extract<JobEvent, { type: T }> }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find((e) => e.event.jobId === jobId && e.event.type === type);
      if (hit) return hit as { at: number; event: Extract<JobEvent, { type: T }> };
      const failed = this.events.find((e) => e.event.jobId === jobId && (e.event.type === 'failed' || e.event.type === 'cancelled'));
      if (failed) throw new Error(`bench job ${jobId} ended: ${JSON.stringify(failed.event)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${type} of ${jobId}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async render(request: Partial<RenderJob['request']>, userId = 'A'): Promise<{ wallMs: number; timings: Record<string, number> }> {
    const j = job(userId, request);
    const start = performance.now();
    await this.queue.enqueue(j);
    const done = await this.until(j.jobId, 'completed');
    return { wallMs: done.at - start, timings: done.event.timingsMs };
  }

  async speed(policy: YieldPolicy, frames: number, runs: number): Promise<SpeedResult> {
    await this.startWorker(policy);
    await this.render({}); // warm-up: first encodes, first ORT runs
    // One segment: one model window on the worker's own engine thread, without previews (the
    // chain's segments preview only at its quarters).
    const model = await this.model!;
    const segment: number[] = [];
    const continuation: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      const fresh = await model.generate({ prompt: PROMPT, seed: 200 + i, frames: 16, previewSteps: [] });
      segment.push(performance.now() - t);
      // A later segment: 4 known frames, new ones from them at the chain's strength (fewer steps).
      const { width, height, fps } = model.defaults;
      const head = [{ width, height, fps, frames: fresh.takes[0]!.clip.frames.slice(-4) }];
      t = performance.now();
      await model.generate({ prompt: PROMPT, seed: 300 + i, frames: 16, previewSteps: [], known: { head, strength: CONTINUATION_STRENGTH } });
      continuation.push(performance.now() - t);
    }
    const short: number[] = [];
    for (let i = 0; i < runs; i++) short.push((await this.render({ seed: 100 + i })).wallMs);
    // The least disturbed of two chains: the machine is shared.
    const chains = [await this.render({ frames }), await this.render({ frames, seed: 8 })];
    const chain = chains.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const segments = planSegments({ frames, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 0 }).length;
    const segmentMs = median(segment);
    const continuationMs = median(continuation);
    // What the chain's own segments cost alone: its first window from noise, the rest continued.
    const ownSegmentsMs = segmentMs + (segments - 1) * continuationMs;
    return {
      policy,
      segmentMs: round(segmentMs),
      continuationMs: round(continuationMs),
      ownSegmentsMs: round(ownSegmentsMs),
      ownRatio: round(chain.wallMs / ownSegmentsMs),
      shortRenderMs: round(median(short)),
      chainMs: round(chain.wallMs),
      chainRunsMs: chains.map((c) => round(c.wallMs)),
      encodeMs: round(chain.timings.encode ?? 0),
      handBacks: policy === 'always' ? segments - 1 : 0,
      ratio: round(chain.wallMs / (segments * segmentMs)),
    };
  }

  async fairness(frames: number): Promise<{ segmentMs: number; waitMs: number; waitSegments: number; chainSegmentsStartedBefore: number }> {
    await this.startWorker('when-waiting');
    const chain = job('A', { frames });
    await this.queue.enqueue(chain);
    const segmentStarts = () =>
      this.events.filter((e) => e.event.jobId === chain.jobId && e.event.type === 'progress' && e.event.step === 1).map((e) => ({ at: e.at, k: (e.event as { segment?: number }).segment ?? 0 }));
    while (!segmentStarts().some((s) => s.k === 3)) await new Promise((r) => setTimeout(r, 5));
    const other = job('B', { prompt: OTHER_PROMPT });
    const submitted = performance.now();
    const atSubmit = Math.max(...segmentStarts().map((s) => s.k));
    await this.queue.enqueue(other);
    const started = await this.until(other.jobId, 'started');
    await this.until(other.jobId, 'completed');
    // Let the chain run a few more segments for its segment duration, then stop it.
    const ended = () => this.events.some((e) => e.event.jobId === chain.jobId && ['completed', 'failed', 'cancelled'].includes(e.event.type));
    while (segmentStarts().length < atSubmit + 4 && !ended()) await new Promise((r) => setTimeout(r, 5));
    if (!ended()) {
      await this.queue.cancel(chain.jobId);
      while (!ended()) await new Promise((r) => setTimeout(r, 5));
    }
    const starts = segmentStarts();
    const gaps = starts.slice(1).map((s, i) => s.at - starts[i]!.at);
    // Segment duration measured where B did not run in between.
    const segmentMs = median(gaps.filter((_, i) => starts[i + 1]!.at < submitted || starts[i]!.at > started.at + 1));
    const waitMs = started.at - submitted;
    return {
      segmentMs: round(segmentMs),
      waitMs: round(waitMs),
      waitSegments: round(waitMs / segmentMs),
      chainSegmentsStartedBefore: starts.filter((s) => s.at > submitted && s.at < started.at).length,
    };
  }

  async close(): Promise<void> {
    await this.worker?.close(5_000);
    if (this.model) await (await this.model).dispose();
    await this.queue.close();
  }
}

/** Runs one render of `frames` frames in a child process and returns its peak RSS. */
async function spawnRss(frames: number): Promise<{ frames: number; maxRssKb: number; wallMs: number }> {
  const entry = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', entry, '--child-rss', String(frames)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the ${frames}-frame memory run exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as { frames: number; maxRssKb: number; wallMs: number };
}

/** Child: the worker's render path (processor, engine, ffmpeg, store) for one job, no queue. */
async function rssChild(frames: number): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-bench-rss-'));
  try {
    const model = await loadModel(builtinModelDir());
    const processor = new RenderProcessor({
      workerId: 'rss',
      acquireModel: async () => ({ model, release: () => {} }),
      media: ffmpegRenderMedia(),
      store: new FsArtifactStore({ root: dir }),
      isCancelRequested: async () => false,
      log: () => {},
    });
    const data = job('rss', { frames, takes: 1 });
    const started = performance.now();
    await processor.process(
      {
        id: data.jobId,
        data,
        attemptsMade: 0,
        opts: { attempts: 1 },
        timestamp: Date.now(),
        updateProgress: async () => {},
        moveToWait: async () => 0,
        moveToDelayed: async () => {},
      },
      undefined,
      undefined,
    );
    const wallMs = performance.now() - started;
    await model.dispose();
    console.log(JSON.stringify({ frames, maxRssKb: process.resourceUsage().maxRSS, wallMs: round(wallMs) }));
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function printTable(r: {
  seconds: number;
  segments: number;
  speed: { whenWaiting: SpeedResult; always: SpeedResult; handBackMs: number };
  memory: { shortKb: { maxRssKb: number }; longKb: { maxRssKb: number }; ratio: number };
  fairness: { segmentMs: number; waitMs: number; waitSegments: number; chainSegmentsStartedBefore: number };
}): void {
  const row = (name: string, value: string, target: string) => console.log(`${name.padEnd(52)}${value.padStart(14)}${target.padStart(12)}`);
  console.log(`\n${'measure'.padEnd(52)}${'value'.padStart(14)}${'target'.padStart(12)}`);
  for (const s of [r.speed.whenWaiting, r.speed.always]) {
    row(`a. ${r.seconds}-s chain, hand back ${s.policy}: wall ms`, s.chainMs.toFixed(0), '');
    row(`   ${r.segments} x one window from noise (${s.segmentMs.toFixed(0)} ms)`, (r.segments * s.segmentMs).toFixed(0), '');
    row(`   ratio to that`, `${s.ratio.toFixed(2)}x`, '<= 1.2x');
    row(`   its own segments alone (1 x ${s.segmentMs.toFixed(0)} + ${r.segments - 1} x ${s.continuationMs.toFixed(0)} continued)`, s.ownSegmentsMs.toFixed(0), '');
    row(`   ratio to that (final encode ${s.encodeMs.toFixed(0)} ms)`, `${s.ownRatio.toFixed(2)}x`, '<= 1.2x');
  }
  row(`   cost of one hand-back (always - when-waiting) / ${r.segments - 1} ms`, r.speed.handBackMs.toFixed(0), '');
  row(`   one whole 2-s render (enqueue -> completed) ms`, r.speed.whenWaiting.shortRenderMs.toFixed(0), '');
  row(`b. peak RSS, 2-s render (MB)`, (r.memory.shortKb.maxRssKb / 1024).toFixed(1), '');
  row(`   peak RSS, ${r.seconds}-s render (MB)`, (r.memory.longKb.maxRssKb / 1024).toFixed(1), '');
  row(`   ratio`, `${r.memory.ratio.toFixed(2)}x`, '<= 1.5x');
  row(`c. 2-s render submitted mid-chain: wait ms`, r.fairness.waitMs.toFixed(0), '');
  row(`   segment duration ms`, r.fairness.segmentMs.toFixed(0), '');
  row(`   wait in segment durations (segments started first: ${r.fairness.chainSegmentsStartedBefore})`, r.fairness.waitSegments.toFixed(2), '<= 2');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

await runIfMain(import.meta.url, run);
