import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startLocalChat } from '../bots/local/server.ts';
import { DailiesError } from '../src/errors.ts';
import { deleteKeysStartingWith } from '../src/redis/delete-keys.ts';
import { BURST_FLAGS, burstOptions, createBenchCore } from './bench-core.ts';
import { benchHost, fmt, round, stats, writeBenchJson, type Stats } from '../src/util/stats.ts';
import type { BurstReply, BurstRequest } from './http-burst-client.ts';
import { parseCliArgs, runIfMain } from '../src/util/cli-args.ts';

/**
 * The web chat's ack as the page sees it: `POST /api/commands` sent -> its response received,
 * with N /video commands in flight at once. The server is the local chat wired to the core as
 * `dailies bot` wires it (Redis session store and rate limiter, admission to the real
 * BullmqJobQueue, delivery); the client runs in a process of its own on keep-alive connections.
 *
 * Beside each burst, the same client sends the same burst to a no-op HTTP server in this process
 * (it reads the JSON body and answers 202): the floor HTTP itself costs on this machine at that
 * moment, since client, server and Redis share its cores. The ratio of the two is the figure that
 * carries over between machines.
 *
 *   node --import tsx bench/web-ack-bench.ts [--redis URL] [--commands N] [--bursts N] [--warmup N] [--out FILE]
 */

export interface WebAckBenchOptions {
  redisUrl: string;
  commands: number;
  bursts: number;
  /** Sequential commands before the first timed burst, plus one untimed burst against each server. */
  warmup: number;
  out: string | null;
  print?: (line: string) => void;
}

export interface WebAckBenchResult {
  measuredAt: string;
  host: ReturnType<typeof benchHost>;
  commands: number;
  bursts: number;
  /** Every web chat ack of every burst, in ms. */
  samplesMs: number[];
  /** The same bursts to the no-op server, in ms. */
  floorSamplesMs: number[];
  all: Stats;
  floorAll: Stats;
  /** jobsQueued: the burst's jobs waiting in BullMQ once admission was done. */
  perBurst: Array<{ webChat: Stats; floor: Stats; ratioP99: number; jobsQueued: number }>;
  /** Key prefixes used (all deleted on the way out). */
  prefixes: string[];
}

const CLIENT = fileURLToPath(new URL('./http-burst-client.ts', import.meta.url));

/** The client process: one burst at a time over IPC. */
class BurstClient {
  private constructor(private readonly child: ChildProcess) {}

  static start(): BurstClient {
    return new BurstClient(fork(CLIENT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  burst(url: string, bodies: unknown[]): Promise<BurstReply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new DailiesError('internal', `The benchmark's HTTP client exited (${code}) during a burst.`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: BurstReply | { error: string }) => {
        this.child.off('exit', onExit);
        if ('error' in reply) reject(new DailiesError('internal', `The benchmark's HTTP client failed: ${reply.error}`));
        else resolve(reply);
      });
      this.child.send({ url, bodies } satisfies BurstRequest);
    });
  }

  close(): void {
    this.child.disconnect();
  }
}

/** Reads the body and answers 202 with a small JSON object, as cheaply as Node's HTTP allows. */
async function startFloorServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { user?: string };
      const reply = JSON.stringify({ id: 'floor', thread: `t_${body.user ?? ''}` });
      res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
      res.end(reply);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/commands`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function measureWebChatAck(options: WebAckBenchOptions): Promise<WebAckBenchResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const redis = new Redis(options.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: null });
  const chatPrefix = `dailies-webackbench-${randomBytes(4).toString('hex')}:`;
  const artifactsDir = path.join(os.tmpdir(), `dailies-webackbench-${process.pid}`);
  const chat = await startLocalChat({ port: 0, redis, artifactsDir, prefix: chatPrefix });
  const bench = createBenchCore({ redisUrl: options.redisUrl, adapters: [chat.adapter], name: 'webackbench', redis });
  const floor = await startFloorServer();
  const client = BurstClient.start();
  const commandsUrl = `${chat.url}/api/commands`;
  let n = 0;
  const bodies = (tag: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({ channel: 'general', user: `${tag}-${i}-${++n}`.slice(0, 40), name: 'video', options: { prompt: `a red ball number ${i} bouncing on a white background`, takes: 2 } }));
  /** Waits for the burst's jobs to reach BullMQ and its progress posts; returns how many jobs wait there. */
  const settle = async (): Promise<number> => {
    await bench.admission.idle();
    await bench.delivery.idle();
    const queued = (await bench.queue.waitingOrder()).length;
    await bench.emptyQueue();
    return queued;
  };
  // Every command must have been answered with its thread, or the times would measure refusals.
  const checked = (reply: BurstReply, what: string): number[] => {
    const bad = reply.statuses.filter((s) => s !== 200 && s !== 202);
    if (bad.length) throw new DailiesError('internal', `${bad.length} of ${reply.statuses.length} ${what} requests failed (HTTP ${bad[0]}).`);
    const threads = new Set(reply.threads.filter((t) => t !== null));
    if (threads.size !== reply.threads.length) throw new DailiesError('internal', `${reply.threads.length - threads.size} of ${reply.threads.length} ${what} answers named no thread of their own.`);
    return reply.timesMs;
  };

  try {
    await bench.start();
    await chat.adapter.start(bench.core);
    for (let i = 0; i < options.warmup; i++) checked(await client.burst(commandsUrl, bodies('warm', 1)), 'web chat');
    checked(await client.burst(commandsUrl, bodies('warm-burst', options.commands)), 'web chat');
    checked(await client.burst(floor.url, bodies('warm-floor', options.commands)), 'floor');
    await settle();

    const perBurst: WebAckBenchResult['perBurst'] = [];
    const samples: number[] = [];
    const floorSamples: number[] = [];
    for (let b = 0; b < options.bursts; b++) {
      const floorTimes = checked(await client.burst(floor.url, bodies(`f${b}`, options.commands)), 'floor');
      const times = checked(await client.burst(commandsUrl, bodies(`u${b}`, options.commands)), 'web chat');
      samples.push(...times);
      floorSamples.push(...floorTimes);
      const webChat = stats(times);
      const floorStats = stats(floorTimes);
      perBurst.push({ webChat, floor: floorStats, ratioP99: round(webChat.p99 / floorStats.p99), jobsQueued: await settle() });
    }

    const result: WebAckBenchResult = {
      measuredAt: new Date().toISOString(),
      host: benchHost(),
      commands: options.commands,
      bursts: options.bursts,
      samplesMs: samples.map(round),
      floorSamplesMs: floorSamples.map(round),
      all: stats(samples),
      floorAll: stats(floorSamples),
      perBurst,
      prefixes: [chatPrefix, `${bench.prefix}:`],
    };
    print(`\nWeb chat ack, ms: ${options.commands} POST /api/commands in flight x ${options.bursts} bursts, as the client process sees them; floor: the same burst to a no-op HTTP server; load ${result.host.loadAvg1m}`);
    print(`${'burst'.padEnd(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)} ${'floor p50'.padStart(10)} ${'floor p99'.padStart(10)} ${'p99 / floor'.padStart(12)}`);
    perBurst.forEach((s, i) => print(`${String(i + 1).padEnd(8)} ${fmt(s.webChat.p50)} ${fmt(s.webChat.p99)} ${fmt(s.webChat.max)} ${fmt(s.floor.p50).padStart(10)} ${fmt(s.floor.p99).padStart(10)} ${fmt(s.ratioP99).padStart(12)}`));
    print(`${'all'.padEnd(8)} ${fmt(result.all.p50)} ${fmt(result.all.p99)} ${fmt(result.all.max)} ${fmt(result.floorAll.p50).padStart(10)} ${fmt(result.floorAll.p99).padStart(10)} ${fmt(round(result.all.p99 / result.floorAll.p99)).padStart(12)}`);
    if (options.out) {
      await writeBenchJson(options.out, result);
      print(`wrote ${options.out}`);
    }
    return result;
  } finally {
    client.close();
    await floor.close();
    await chat.close().catch(() => {});
    await bench.close();
    await deleteKeysStartingWith(redis, chatPrefix).catch(() => {});
    redis.disconnect();
    await rm(artifactsDir, { recursive: true, force: true });
  }
}

const USAGE = `Usage: node --import tsx bench/web-ack-bench.ts [--redis URL] [--commands N] [--bursts N] [--warmup N] [--out FILE]

Times POST /api/commands of the local web chat with N /video commands in flight (default 200,
3 bursts), from a client in its own process, beside the same bursts to a no-op HTTP server.
  --out FILE   JSON results (default bench-results/ack-web.json)`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, BURST_FLAGS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  await measureWebChatAck(burstOptions(values, { warmup: 50, out: 'bench-results/ack-web.json' }));
  return 0;
}

await runIfMain(import.meta.url, run);
