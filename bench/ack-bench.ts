import path from 'node:path';
import type { Redis } from 'ioredis';
import type { ChatAdapter, ChatEventHandler, CommandEvent, MessageRef, OutgoingMessage, ThreadHeading, ThreadRef } from '../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../src/errors.ts';
import type { PoolBenchHooks, PoolBenchOptions } from './pool-bench.ts';
import { BURST_FLAGS, burstOptions, createBenchCore } from './bench-core.ts';
import { benchHost, writeBenchJson, fmt, percentile, round, stats, type Stats } from '../src/util/stats.ts';
import { parseCliArgs, runIfMain, wholeNumber } from '../src/util/cli-args.ts';

/**
 * How fast the core answers a command, as `dailies bot` wires it — Redis session store, Redis
 * rate limiter, the real BullmqJobQueue, delivery subscribed to the queue's events — with bursts
 * of `/video` commands in flight at once. Measured from handing the event to the core to its
 * answer. This is not the platform's ack: the Discord and Slack adapters acknowledge before the
 * core runs, and bench/discord-ack-bench.ts times that deferral as Discord sees it. The
 * platform side here is an instant stand-in, so no HTTP and no platform time is included;
 * admission (the BullMQ enqueue) and progress posts run after each answer, on the same event
 * loop, as in production, and the table says when the burst's last job was in the queue.
 *
 * `dailies bench-pool` runs this through its `commandAnswerSamplesMs` hook; it also runs alone:
 *   node --import tsx bench/ack-bench.ts [--redis URL] [--commands N] [--bursts N] [--out FILE]
 */

export interface AckBenchOptions {
  redisUrl: string;
  /** Commands in flight per burst. */
  commands: number;
  bursts: number;
  /** Sequential commands first, to pay for module loading, JIT and connections as a running bot has. */
  warmup: number;
  /** Channels the commands of a burst are spread over (1: everyone in one busy channel). */
  channels: number;
  /** JSON results; null writes nothing. */
  out: string | null;
  print?: (line: string) => void;
}

export interface AckBenchResult {
  measuredAt: string;
  host: ReturnType<typeof benchHost>;
  commands: number;
  bursts: number;
  warmup: number;
  channels: number;
  /** Every answer of every burst, in ms. */
  samplesMs: number[];
  all: Stats;
  /** cpuMs: this process during the answers; allQueuedMs: burst start until every job is in BullMQ. */
  perBurst: (Stats & { cpuMs: number; bareRedisP99Ms: number; allQueuedMs: number })[];
}

/** The platform side, answering at once: what is timed is the core and its Redis, not a chat API. */
class InstantAdapter implements ChatAdapter {
  readonly platform = 'local' as const;
  maxUploadBytesFor(): number {
    return 25 * 1024 * 1024;
  }
  private next = 0;
  async start(_handler: ChatEventHandler): Promise<void> {}
  async stop(): Promise<void> {}
  async startThread(origin: CommandEvent, _message: OutgoingMessage) {
    const thread: ThreadRef = { platform: 'local', channelId: origin.channelId, threadId: `t${++this.next}` };
    return { thread, message: { thread, messageId: `m${++this.next}` } };
  }
  async post(thread: ThreadRef, _message: OutgoingMessage): Promise<MessageRef> {
    return { thread, messageId: `m${++this.next}` };
  }
  async edit(_ref: MessageRef, _message: OutgoingMessage): Promise<void> {}
  async replace(ref: MessageRef, _message: OutgoingMessage): Promise<MessageRef> {
    return ref;
  }
  async retitle(_thread: ThreadRef, _heading: ThreadHeading): Promise<void> {}
}

export async function measureCommandAck(options: AckBenchOptions): Promise<AckBenchResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const adapter = new InstantAdapter();
  const bench = createBenchCore({ redisUrl: options.redisUrl, adapters: [adapter], name: 'ackbench' });
  const { core, delivery, redis } = bench;
  let n = 0;
  const event = (user: string, prompt: string, channel = 'bench'): CommandEvent => ({
    id: `bench-${++n}`,
    platform: 'local',
    kind: 'command',
    user: { id: user, name: user },
    receivedAt: Date.now(),
    channelId: channel,
    name: 'video',
    options: { prompt, takes: 2 },
  });
  const answer = async (e: CommandEvent) => {
    const outcome = await core(e);
    if (outcome.error) throw new DailiesError('internal', `The core refused a benchmark command: ${outcome.error.message}`);
  };

  try {
    await bench.start();
    for (let i = 0; i < options.warmup; i++) await answer(event(`warm-${i}`, `a red ball number ${i} bouncing on a white background`));
    // One untimed burst too: a running bot has been through bursts, so its concurrent paths are
    // compiled and its heap sized for one.
    await Promise.all(Array.from({ length: options.commands }, (_, i) => answer(event(`warm-burst-${i}`, `a red ball number ${i} bouncing on a white background`))));
    await bench.admission.idle();
    await delivery.idle();
    // Every burst starts from an empty queue.
    await bench.emptyQueue();

    const samples: number[] = [];
    const perBurst: AckBenchResult['perBurst'] = [];
    for (let b = 0; b < options.bursts; b++) {
      const bare = await bareRoundTripsP99(redis, `${bench.prefix}:bare`, options.commands);
      const events = Array.from({ length: options.commands }, (_, i) => event(`u${b}-${i}`, `a red ball number ${i} bouncing on a white background`, `bench-${i % options.channels}`));
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      const times = await Promise.all(
        events.map(async (e) => {
          const t0 = performance.now();
          await answer(e);
          return performance.now() - t0;
        }),
      );
      const cpu = process.cpuUsage(cpu0);
      // The queue's part follows the answers: every job of the burst is in BullMQ when admission idles.
      await bench.admission.idle();
      const queuedMs = performance.now() - start;
      samples.push(...times);
      perBurst.push({ ...stats(times), cpuMs: round((cpu.user + cpu.system) / 1000), bareRedisP99Ms: round(bare), allQueuedMs: round(queuedMs) });
      // Delivery's progress posts for this burst finish before the next burst starts.
      await delivery.idle();
      await bench.emptyQueue();
    }

    const result: AckBenchResult = {
      measuredAt: new Date().toISOString(),
      host: benchHost(),
      commands: options.commands,
      bursts: options.bursts,
      warmup: options.warmup,
      channels: options.channels,
      samplesMs: samples.map(round),
      all: stats(samples),
      perBurst,
    };
    print(`\nCommand answer (core), ms: ${options.commands} /video commands in flight in ${options.channels} channel${options.channels === 1 ? '' : 's'} x ${options.bursts} bursts (core + Redis store, then admission to BullMQ; no HTTP), load ${result.host.loadAvg1m}`);
    print(`${'burst'.padEnd(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)} ${'CPU ms'.padStart(8)} ${'bare Redis p99'.padStart(15)} ${'all queued'.padStart(11)}`);
    perBurst.forEach((s, i) => print(`${String(i + 1).padEnd(8)} ${fmt(s.p50)} ${fmt(s.p99)} ${fmt(s.max)} ${fmt(s.cpuMs)} ${fmt(s.bareRedisP99Ms).padStart(15)} ${fmt(s.allQueuedMs).padStart(11)}`));
    print(`${'all'.padEnd(8)} ${fmt(result.all.p50)} ${fmt(result.all.p99)} ${fmt(result.all.max)}`);
    if (options.out) {
      await writeBenchJson(options.out, result);
      print(`wrote ${options.out}`);
    }
    return result;
  } finally {
    await bench.close();
  }
}

/**
 * What the same burst of Redis round trips costs with nothing else running (an event claim and
 * a session write each): the floor under the answer on this machine at this moment, printed beside it.
 */
async function bareRoundTripsP99(redis: Redis, prefix: string, count: number): Promise<number> {
  const doc = 'x'.repeat(1500);
  const times = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const t0 = performance.now();
      await redis.set(`${prefix}:e${i}`, '1', 'PX', 60_000, 'NX');
      await redis.eval("redis.call('HSET', KEYS[1], 'doc', ARGV[1]) return 'ok'", 1, `${prefix}:s${i}`, doc);
      return performance.now() - t0;
    }),
  );
  await redis.del(...Array.from({ length: count }, (_, i) => [`${prefix}:e${i}`, `${prefix}:s${i}`]).flat());
  return percentile(times, 99);
}

/**
 * The pool bench's hooks: the same Redis as the pool bench (`--redis`), results written beside
 * its JSON (`--out`) as ack.json, ack-discord.json and ack-web.json.
 */
export function poolBenchHooks(options: Pick<PoolBenchOptions, 'redisUrl' | 'out'>): PoolBenchHooks {
  const { redisUrl } = options;
  const dir = path.dirname(options.out);
  return {
    commandAnswerSamplesMs: async () => (await measureCommandAck({ redisUrl, commands: 200, bursts: 3, warmup: 100, channels: 1, out: path.join(dir, 'ack.json') })).samplesMs,
    discordAckSamplesMs: async () => {
      // It drives the real adapter against the test stand-in of Discord (test/discord/stand-in/).
      const { measureDiscordAck } = await import('./discord-ack-bench.ts');
      return (await measureDiscordAck({ redisUrl, commands: 200, bursts: 3, warmup: 50, out: path.join(dir, 'ack-discord.json') })).ackSamplesMs;
    },
    webChatAckSamplesMs: async () => {
      const { measureWebChatAck } = await import('./web-ack-bench.ts');
      const result = await measureWebChatAck({ redisUrl, commands: 200, bursts: 3, warmup: 50, out: path.join(dir, 'ack-web.json') });
      return { samplesMs: result.samplesMs, floorSamplesMs: result.floorSamplesMs };
    },
  };
}

/** `dailies bench-pool` with the command rows filled in. */
export async function runPoolBench(argv: string[]): Promise<number> {
  const { run, parsePoolBenchArgs } = await import('./pool-bench.ts');
  const options = parsePoolBenchArgs(argv);
  return run(argv, options === 'help' ? {} : poolBenchHooks(options));
}

const USAGE = `Usage: node --import tsx bench/ack-bench.ts [--redis URL] [--commands N] [--bursts N] [--warmup N] [--channels N] [--out FILE]

Times the core's answer to N /video commands in flight at once (default 200, 3 bursts, after 100
sequential warm-up commands) with the Redis session store and the BullMQ queue, on throwaway keys.
  --channels N spread each burst over N channels (default 1: one busy channel)
  --out FILE   JSON results (default bench-results/ack.json)`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, { ...BURST_FLAGS, channels: { type: 'string' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  await measureCommandAck({
    ...burstOptions(values, { warmup: 100, out: 'bench-results/ack.json' }),
    channels: wholeNumber('--channels', values.channels, 1, 1),
  });
  return 0;
}

await runIfMain(import.meta.url, run);
