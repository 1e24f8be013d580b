import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { DiscordAdapter, type AdapterLogger, type SettledEvent } from '../bots/discord/discord-adapter.ts';
import { BURST_FLAGS, burstOptions, createBenchCore } from './bench-core.ts';
import { benchHost, writeBenchJson, fmt, round, stats, type Stats } from '../src/util/stats.ts';
import { DailiesError } from '../src/errors.ts';
import { RemoteStandIn, type InteractionTiming } from './remote-stand-in.ts';
import { parseCliArgs, runIfMain } from '../src/util/cli-args.ts';

/**
 * The command ack Discord observes, under load: the real DiscordAdapter (discord.js) connected to
 * the stand-in of Discord's gateway and REST API, handing events to the core as `dailies bot`
 * wires it (bench-core.ts). N /video interactions are written to the gateway back to back, and
 * for each the stand-in times INTERACTION_CREATE sent -> interaction callback received (the
 * adapter's deferral, which is what meets Discord's 3 s deadline), and -> the first request on
 * the interaction's webhook (the deferred reply edited into the session message, i.e. the
 * core's answer arriving). The stand-in runs in its own process, so its work is not charged to
 * the bot; the bot process holds the adapter, the core and delivery, as in production. A third
 * time, when the bot wrote each callback request (undici's diagnostics channel, on the bot's
 * clock lined up with the stand-in's by performance.timeOrigin), splits the ack into the bot's
 * part and the stand-in's own queue for receiving 200 requests at once.
 *
 * It drives the Discord stand-in from test/discord/stand-in/ (only bench/ may import test code);
 * `dailies bench-pool` loads it for
 * its "command ack (Discord, to platform)" row. It also runs alone:
 *   node --import tsx bench/discord-ack-bench.ts [--redis URL] [--commands N] [--bursts N] [--warmup N] [--out FILE]
 */

export interface DiscordAckBenchOptions {
  redisUrl: string;
  /** Interactions in flight per burst. */
  commands: number;
  bursts: number;
  /** Sequential commands first, to pay for JIT and connections as a running bot has. */
  warmup: number;
  /** JSON results; null writes nothing. */
  out: string | null;
  /** How long a burst may take to settle in the adapter before the bench moves on without the rest. */
  settleTimeoutMs?: number;
  print?: (line: string) => void;
}

/** One interaction as measured: the stand-in's view, plus when the bot sent its callback. */
export interface InteractionRecord extends InteractionTiming {
  /** INTERACTION_CREATE written -> the bot wrote the callback request, ms (two processes' clocks on one machine). */
  sentMs: number | null;
}

export interface DiscordBurstResult {
  ack: Stats;
  sent: Stats;
  answer: Stats;
  /** Interactions the adapter reported settled; sessions stored with a job; jobs waiting in the queue after the burst. */
  settled: number;
  sessions: number;
  jobsQueued: number;
  /** CPU spent from the burst's dispatch until it settled: the bot process (adapter + core), and the stand-in. */
  botCpuMs: number;
  standInCpuMs: number;
}

export interface DiscordAckBenchResult {
  measuredAt: string;
  host: ReturnType<typeof benchHost>;
  commands: number;
  bursts: number;
  warmup: number;
  /** The throwaway Redis keys' prefix (deleted when the bench ends). */
  redisPrefix: string;
  /** INTERACTION_CREATE sent -> interaction callback received, every interaction of every burst, ms. */
  ackSamplesMs: number[];
  /** INTERACTION_CREATE sent -> the deferred reply's edit received, ms. */
  answerSamplesMs: number[];
  ack: Stats;
  answer: Stats;
  perBurst: DiscordBurstResult[];
  /** Every measured interaction. */
  interactions: InteractionRecord[];
  /** Warnings and errors the adapter logged while measured, by message, with the first one's detail (empty on a clean run). */
  adapterLog: { line: string; count: number; first: unknown }[];
}

export async function measureDiscordAck(options: DiscordAckBenchOptions): Promise<DiscordAckBenchResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const settleTimeoutMs = options.settleTimeoutMs ?? 60_000;
  const settled = new Map<string, SettledEvent>();
  const onSettle = new Set<() => void>();
  const adapterLog = new Map<string, { line: string; count: number; first: unknown }>();
  const logAs = (level: string) => (message: string, detail?: unknown) => {
    const line = `${level}: ${message}`;
    const seen = adapterLog.get(line);
    if (seen) seen.count += 1;
    else adapterLog.set(line, { line, count: 1, first: detail ?? null });
  };
  const logger: AdapterLogger = { warn: logAs('warn'), error: logAs('error') };

  // discord.js sends through its own undici, which reports each request as its headers are written.
  const sentAt = new Map<string, number>();
  const onHeadersSent = (message: unknown) => {
    const callback = CALLBACK_PATH.exec((message as { request?: { path?: string } }).request?.path ?? '');
    if (callback) sentAt.set(callback[1]!, performance.timeOrigin + performance.now());
  };
  subscribe(HEADERS_SENT, onHeadersSent);

  const standIn = await RemoteStandIn.start().catch((error: unknown) => {
    unsubscribe(HEADERS_SENT, onHeadersSent);
    throw error;
  });
  const adapter = new DiscordAdapter({
    config: { token: standIn.info.token, appId: standIn.info.appId, messageContent: false, apiUrl: standIn.info.apiUrl },
    logger,
    onEventSettled: (event) => {
      settled.set(event.id, event);
      for (const check of onSettle) check();
    },
  });
  const bench = createBenchCore({ redisUrl: options.redisUrl, adapters: [adapter], name: 'discord-ackbench' });

  /** Resolves with how many of `ids` settled within the timeout. */
  const waitSettled = (ids: string[], timeoutMs: number) =>
    new Promise<number>((resolve) => {
      const count = () => ids.filter((id) => settled.has(id)).length;
      const done = () => {
        clearTimeout(timer);
        onSettle.delete(check);
        resolve(count());
      };
      const check = () => {
        if (count() === ids.length) done();
      };
      const timer = setTimeout(done, timeoutMs);
      onSettle.add(check);
      check();
    });

  try {
    await bench.start();
    await adapter.start(bench.core);
    for (let i = 0; i < options.warmup; i++) {
      const ids = await standIn.burst(1, `warm${i}`);
      if ((await waitSettled(ids, settleTimeoutMs)) < 1) throw new DailiesError('unavailable', `A warm-up /video did not settle within ${settleTimeoutMs} ms; the adapter logged: ${[...adapterLog.keys()].join('; ') || 'nothing'}.`);
    }
    await bench.admission.idle();
    await bench.delivery.idle();
    await bench.emptyQueue();
    adapterLog.clear();

    const interactions: InteractionRecord[] = [];
    const perBurst: DiscordBurstResult[] = [];
    for (let b = 0; b < options.bursts; b++) {
      const cpu0 = process.cpuUsage();
      const ids = await standIn.burst(options.commands, `b${b}`);
      const settledCount = await waitSettled(ids, settleTimeoutMs);
      const cpu = process.cpuUsage(cpu0);
      const { timings, cpuMs: standInCpuMs } = await standIn.timings(ids);
      const records = timings.map((t): InteractionRecord => {
        const sent = sentAt.get(t.id);
        return { ...t, sentMs: sent === undefined ? null : sent - t.dispatchedAtEpochMs };
      });
      const stored = await Promise.all(
        ids.map(async (id) => {
          const thread = settled.get(id)?.outcome?.thread;
          const session = thread ? await bench.store.getByThread(thread) : null;
          return session !== null && session.jobs.length > 0;
        }),
      );
      const jobsQueued = (await bench.queue.waitingOrder()).length;
      interactions.push(...records);
      perBurst.push({
        ack: stats(measured(records, 'ackMs')),
        sent: stats(measured(records, 'sentMs')),
        answer: stats(measured(records, 'answerMs')),
        settled: settledCount,
        sessions: stored.filter(Boolean).length,
        jobsQueued,
        botCpuMs: round((cpu.user + cpu.system) / 1000),
        standInCpuMs: round(standInCpuMs),
      });
      // Delivery's progress posts for this burst finish before the next burst starts, on an empty queue.
      await bench.admission.idle();
      await bench.delivery.idle();
      await bench.emptyQueue();
    }

    const ackSamples = measured(interactions, 'ackMs');
    const answerSamples = measured(interactions, 'answerMs');
    const result: DiscordAckBenchResult = {
      measuredAt: new Date().toISOString(),
      host: benchHost(),
      commands: options.commands,
      bursts: options.bursts,
      warmup: options.warmup,
      redisPrefix: bench.prefix,
      ackSamplesMs: ackSamples.map(round),
      answerSamplesMs: answerSamples.map(round),
      ack: stats(ackSamples),
      answer: stats(answerSamples),
      perBurst,
      interactions: interactions.map((t) => ({ ...t, ackMs: roundOrNull(t.ackMs), sentMs: roundOrNull(t.sentMs), answerMs: roundOrNull(t.answerMs) })),
      adapterLog: [...adapterLog.values()],
    };
    printTable(result, print);
    if (options.out) {
      await writeBenchJson(options.out, result);
      print(`wrote ${options.out}`);
    }
    return result;
  } finally {
    unsubscribe(HEADERS_SENT, onHeadersSent);
    await adapter.stop().catch(() => {});
    await bench.close();
    await standIn.close();
  }
}

const HEADERS_SENT = 'undici:client:sendHeaders';
const CALLBACK_PATH = /\/interactions\/(\d+)\/[^/]+\/callback/;

function measured(records: InteractionRecord[], key: 'ackMs' | 'sentMs' | 'answerMs'): number[] {
  return records.flatMap((t) => (t[key] === null ? [] : [t[key]]));
}

function roundOrNull(x: number | null): number | null {
  return x === null ? null : round(x);
}

function printTable(r: DiscordAckBenchResult, print: (line: string) => void): void {
  print(`\nDiscord command ack, ms: ${r.commands} /video interactions in flight x ${r.bursts} bursts, DiscordAdapter + core (Redis store, BullMQ) against the Discord stand-in in its own process, load ${r.host.loadAvg1m}`);
  print('  ack: INTERACTION_CREATE sent -> deferred callback received by the stand-in; sent: -> the bot wrote that callback (the rest of');
  print("  the ack is the stand-in's queue for receiving them); answer: -> the deferred reply edited into the session message");
  const head = ['ack p50', 'ack p99', 'ack max', 'sent p99', 'ans p50', 'ans p99', 'ans max'].map((h) => h.padStart(8)).join(' ');
  print(`${'burst'.padEnd(6)} ${head} ${'sessions'.padStart(9)} ${'bot CPU ms'.padStart(11)} ${'stand-in CPU ms'.padStart(16)}`);
  const cells = (s: { ack: Stats; sent: Stats; answer: Stats }) => [s.ack.p50, s.ack.p99, s.ack.max, s.sent.p99, s.answer.p50, s.answer.p99, s.answer.max].map(fmt).join(' ');
  r.perBurst.forEach((s, i) => {
    print(`${String(i + 1).padEnd(6)} ${cells(s)} ${`${s.sessions}/${r.commands}`.padStart(9)} ${fmt(s.botCpuMs).padStart(11)} ${fmt(s.standInCpuMs).padStart(16)}`);
  });
  print(`${'all'.padEnd(6)} ${cells({ ack: r.ack, sent: stats(measured(r.interactions, 'sentMs')), answer: r.answer })}`);
  const unanswered = r.interactions.filter((t) => t.callbacks !== 1 || t.callbackStatus !== 204).length;
  if (unanswered) print(`${unanswered} interaction(s) were not acknowledged exactly once within Discord's 3 s; see "interactions" in the JSON.`);
  for (const { line, count, first } of r.adapterLog) print(`the adapter logged ${count} x "${line}", first: ${JSON.stringify(first)}`);
}

const USAGE = `Usage: node --import tsx bench/discord-ack-bench.ts [--redis URL] [--commands N] [--bursts N] [--warmup N] [--out FILE]

Times the Discord adapter's acknowledgement of N /video interactions in flight at once (default
200, 3 bursts, after 50 sequential warm-up commands), as the Discord stand-in sees it, with the
core on the Redis session store and the BullMQ queue, on throwaway keys.
  --out FILE   JSON results (default bench-results/ack-discord.json)`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, BURST_FLAGS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  await measureDiscordAck(burstOptions(values, { warmup: 50, out: 'bench-results/ack-discord.json' }));
  return 0;
}

await runIfMain(import.meta.url, run);
