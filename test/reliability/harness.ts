import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { redisAnswers } from '../../cli/redis-connection.ts';
import { builtinModelDir, readModelName } from '../../models/engine/load-model.ts';
import { modelQueueName } from '../../src/queue/model-queue-name.ts';
import { onTestFailed, onTestFinished } from 'vitest';

/**
 * A dailies deployment as separate OS processes, for killing them at the worst moments:
 *
 * - its own `redis-server` on a free port, AOF on with `appendfsync always` (so what Redis
 *   acknowledged survives a SIGKILL of Redis itself), in a temporary directory;
 * - `dailies bot` (package.json's `bin`, run with node: web chat + delivery + admission, no
 *   rendering) on a port chosen here, so a restarted bot serves the same URL;
 * - `dailies worker` processes (one render slot each, the built-in model).
 *
 * Exactly the commands a person runs, with one environment for all of them. Everything each
 * child prints is kept and printed when the test fails; `useCluster` registers the cleanup
 * (SIGKILL every child still running, stop redis-server, remove the temporary directory) so it
 * runs however the test ends. Waits are for conditions with generous deadlines: the machine has
 * two cores shared with model training.
 */

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
/** The `dailies` command as npm installs it (package.json `bin`), so a moved entry point is followed. */
const CLI = join(ROOT, dailiesBin());

function dailiesBin(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.dailies;
  if (!bin) throw new Error('package.json names no `dailies` bin; the reliability harness runs that command');
  return bin;
}

/** Settings the bot and workers read; short so that sweeps and stall checks happen within a test. */
export const SWEEP_INTERVAL_MS = 1_000;
export const ADMISSION_GRACE_MS = 1_500;
export const STALLED_INTERVAL_MS = 1_000;
export const LOCK_DURATION_MS = 2_000;
/**
 * How long a post claimed by a bot that then died blocks reconciliation from posting it (default
 * two minutes). Posts to the local chat take milliseconds, so a few seconds is plenty here.
 */
export const POST_LEASE_MS = 5_000;

/** The queue of the built-in model, which the cluster's bots and workers use (one queue per model). */
export const QUEUE = modelQueueName('renders', await readModelName(builtinModelDir()));

// ---- waiting --------------------------------------------------------------------------------

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Thrown by a `waitFor` check to stop waiting at once (e.g. the process being waited on died). */
export class Fatal extends Error {}

/**
 * Polls `check` until it returns something other than undefined/false/null, or throws after
 * `timeoutMs` naming `what` (and the last error `check` threw, if any). Errors thrown by `check`
 * count as "not yet", except `Fatal`, which ends the wait.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  intervalMs = 200,
  abort?: () => string | null,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = abort?.();
    if (aborted) throw new Error(`stopped waiting for ${what}: ${aborted}`);
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      if (error instanceof Fatal) throw new Error(`stopped waiting for ${what}: ${error.message}`);
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** Like waitFor, but answers false on timeout instead of throwing (for "if it happens" waits). */
export async function waitUpTo(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  try {
    return await waitFor(what, async () => (await check()) || undefined, timeoutMs, intervalMs);
  } catch {
    return false;
  }
}

/**
 * A free port below the kernel's ephemeral range: the bot and Redis are restarted on the same
 * port, and a port from the ephemeral range could meanwhile become the local end of one of the
 * many client connections on this machine, making the restart fail with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  let low = 32_768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: keep the usual start of the range
  }
  const from = Math.max(10_000, Math.min(low, 32_768) - 12_000);
  for (let i = 0; i < 200; i++) {
    const port = from + Math.floor(Math.random() * (Math.min(low, 32_768) - from));
    if (await canListen(port)) return port;
  }
  throw new Error('no free port found below the ephemeral range');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = net.createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

// ---- HTTP -----------------------------------------------------------------------------------

export interface HttpResult {
  status: number;
  body: any;
  /** Time from sending the request to the whole answer. */
  ms: number;
}

/**
 * One request on a connection of its own (no keep-alive pool: a killed and restarted bot leaves
 * dead pooled sockets behind, and a test must never mistake those for the new bot's answer).
 * Rejects on network errors and when no answer arrived within `timeoutMs`.
 */
export function request(method: 'GET' | 'POST', url: string, body?: unknown, timeoutMs = 30_000): Promise<HttpResult> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      url,
      {
        method,
        agent: false,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          done({ status: res.statusCode ?? 0, body: parsed, ms: Date.now() - started });
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer to ${method} ${new URL(url).pathname} within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    req.end(payload);
  });
}

// ---- child processes --------------------------------------------------------------------------

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
// If vitest itself goes away, its deployments must not outlive it: on exit, and on a signal
// (after which the signal is raised again, so the default action still ends the process).
const killChildren = () => {
  for (const child of liveChildren) child.kill('SIGKILL');
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a child still dying may be writing into it; nothing more to do on the way out
    }
  }
};
process.once('exit', killChildren);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killChildren();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One child process and everything it printed, each line stamped with seconds since the cluster began. */
export class Proc {
  private lines: string[] = [];
  private partial = { stdout: '', stderr: '' };
  private exit: Exit | null = null;
  private sent: NodeJS.Signals | null = null;
  readonly exited: Promise<Exit>;
  readonly startedAt = Date.now();
  /** For workers: the id it announced ("host:cpu:pid"), as found in BullMQ 'started' events. */
  workerId: string | null = null;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    private readonly epoch: number,
  ) {
    liveChildren.add(child);
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]!.setEncoding('utf8').on('data', (d: string) => this.take(stream, d));
    }
    this.exited = new Promise<Exit>((done) => {
      child.once('exit', (code, signal) => {
        liveChildren.delete(child);
        for (const stream of ['stdout', 'stderr'] as const) if (this.partial[stream]) this.take(stream, '\n');
        this.exit = { code, signal };
        const outsider = signal !== null && signal !== this.sent ? ` — a signal this harness did not send: something else on the machine killed it` : '';
        this.lines.push(`${this.stamp()} [exit ${signal ?? code}${outsider}]`);
        done(this.exit);
      });
    });
    child.once('error', (error) => this.lines.push(`${this.stamp()} [spawn error: ${error.message}]`));
  }

  private stamp(): string {
    return `+${((Date.now() - this.epoch) / 1000).toFixed(3)}s`;
  }

  private take(stream: 'stdout' | 'stderr', data: string): void {
    const text = this.partial[stream] + data;
    const parts = text.split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const line of parts) this.lines.push(`${this.stamp()} ${stream === 'stderr' ? '! ' : ''}${line}`);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exit === null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get exitInfo(): Exit | null {
    return this.exit;
  }

  output(): string {
    return this.lines.join('\n');
  }

  note(line: string): void {
    this.lines.push(`${this.stamp()} [harness] ${line}`);
  }

  /** Sends `signal` (SIGKILL by default) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.alive && this.sent !== signal) {
      this.sent = signal;
      this.note(`sending ${signal}`);
      this.child.kill(signal);
    }
    return this.exited;
  }
}

// ---- the deployment ---------------------------------------------------------------------------

export interface ClusterOptions {
  /** Worker processes started with the bot (default 2). */
  workers?: number;
  /** Start the bot at once (default true). */
  bot?: boolean;
  /** Extra environment for every process (e.g. DAILIES_VOTE_WINDOW_MS). */
  env?: Record<string, string>;
}

export class Cluster {
  readonly epoch = Date.now();
  readonly prefix = `rel-${randomBytes(5).toString('hex')}`;
  readonly procs: Proc[] = [];
  readonly workers: Proc[] = [];
  bot: Proc | null = null;
  redisServer: Proc | null = null;
  private closed: string | null = null;
  private botCount = 0;
  private workerCount = 0;
  private redisCount = 0;

  private constructor(
    readonly dir: string,
    readonly redisPort: number,
    readonly httpPort: number,
    private readonly extraEnv: Record<string, string>,
  ) {}

  static async create(options: ClusterOptions = {}): Promise<Cluster> {
    const dir = await mkdtemp(join(tmpdir(), 'dailies-reliability-'));
    liveDirs.add(dir);
    await mkdir(join(dir, 'redis'));
    await mkdir(join(dir, 'artifacts'));
    const redisPort = await freePort();
    let httpPort = await freePort();
    while (httpPort === redisPort) httpPort = await freePort();
    const cluster = new Cluster(dir, redisPort, httpPort, options.env ?? {});
    return cluster;
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get artifactsDir(): string {
    return join(this.dir, 'artifacts');
  }

  /** BullMQ's key prefix for the render queue (`<prefix>:renders.shapes-v2:`). */
  get queueKeyPrefix(): string {
    return `${this.prefix}:${QUEUE}:`;
  }

  /** Why waits should stop (the cluster was cleaned up, e.g. after a test timeout), or null. */
  readonly stopped = (): string | null => this.closed;

  /** The one environment every process gets. */
  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // A developer's chat tokens must not connect this run to a real workspace, nor their model
    // folder or dailies settings change what is tested.
    for (const name of Object.keys(env)) {
      if (name.startsWith('SLACK_') || name.startsWith('DISCORD_') || name.startsWith('DAILIES_')) delete env[name];
    }
    delete env.MODEL_DIR;
    // Inside vitest, NODE_OPTIONS/VITEST variables would change how the child loads its modules.
    for (const name of Object.keys(env)) if (name.startsWith('VITEST') || name === 'NODE_OPTIONS' || name === 'TEST') delete env[name];
    return {
      ...env,
      REDIS_URL: this.redisUrl,
      DAILIES_PREFIX: this.prefix,
      ARTIFACTS_DIR: this.artifactsDir,
      PORT: String(this.httpPort),
      HOST: '127.0.0.1',
      DAILIES_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
      DAILIES_ADMISSION_GRACE_MS: String(ADMISSION_GRACE_MS),
      DAILIES_STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS),
      DAILIES_LOCK_DURATION_MS: String(LOCK_DURATION_MS),
      DAILIES_POST_LEASE_MS: String(POST_LEASE_MS),
      ...this.extraEnv,
    };
  }

  private spawnProc(name: string, command: string, args: string[]): Proc {
    if (this.closed) throw new Error(`cannot start ${name}: ${this.closed}`);
    const child = spawn(command, args, { cwd: ROOT, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new Proc(name, child, this.epoch);
    proc.note(`started: ${command === process.execPath ? 'node' : command} ${args.map((a) => a.replace(ROOT + '/', '')).join(' ')} (pid ${child.pid})`);
    this.procs.push(proc);
    return proc;
  }

  /** Waits for a line matching `pattern` in `proc`'s output; fails early if the process exits. */
  private async waitForLine(proc: Proc, pattern: RegExp, what: string, timeoutMs: number): Promise<RegExpExecArray> {
    return waitFor(
      `${proc.name} to print ${what}`,
      () => {
        const match = pattern.exec(proc.output());
        if (match) return match;
        if (!proc.alive) throw new Fatal(`${proc.name} exited (${proc.exitInfo?.signal ?? proc.exitInfo?.code}) before printing ${what}`);
        return undefined;
      },
      timeoutMs,
      100,
      this.stopped,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- ${proc.name} output ---\n${tail(proc.output())}`);
    });
  }

  // -- redis-server

  /** Starts redis-server on the cluster's port and data directory (AOF replayed on a restart). */
  async startRedis(): Promise<Proc> {
    if (this.redisServer?.alive) throw new Error('redis-server is already running');
    const proc = this.spawnProc(`redis-server#${++this.redisCount}`, 'redis-server', [
      '--port', String(this.redisPort),
      '--bind', '127.0.0.1',
      '--appendonly', 'yes',
      '--appendfsync', 'always',
      '--dir', join(this.dir, 'redis'),
      '--save', '',
    ]);
    this.redisServer = proc;
    await waitFor(
      'redis-server to answer PING',
      async () => {
        if (!proc.alive) throw new Fatal(`redis-server exited:\n${tail(proc.output())}`);
        return redisAnswers(`redis://127.0.0.1:${this.redisPort}`);
      },
      20_000,
      50,
      this.stopped,
    );
    return proc;
  }

  /** SIGKILLs redis-server: no shutdown save; what it acknowledged is in the AOF already. */
  async killRedis(): Promise<void> {
    await this.redisServer?.kill('SIGKILL');
  }

  /** Runs `fn` with a fresh Redis connection (a new one each time, so a Redis restart never leaves it stale). */
  async withRedis<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({ port: this.redisPort, host: '127.0.0.1', maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      return await fn(redis);
    } finally {
      redis.disconnect();
    }
  }

  // -- bot

  /** Spawns `dailies bot` and waits for its `web chat:` line and a healthy /api/health. */
  async startBot(): Promise<Proc> {
    if (this.bot?.alive) throw new Error('the bot is already running');
    const proc = this.spawnProc(`bot#${++this.botCount}`, process.execPath, [CLI, 'bot']);
    this.bot = proc;
    const match = await this.waitForLine(proc, /web chat: (http:\/\/[^\s"]+)/, 'its "web chat:" line', 90_000);
    if (match[1] !== this.url) throw new Error(`the bot serves ${match[1]}, not ${this.url}: PORT/HOST were not honoured`);
    await waitFor(
      `${proc.name}'s GET /api/health`,
      async () => {
        if (!proc.alive) throw new Fatal(`${proc.name} exited (${proc.exitInfo?.signal ?? proc.exitInfo?.code})`);
        const res = await request('GET', `${this.url}/api/health`, undefined, 5_000);
        return res.status === 200 && res.body?.ok === true;
      },
      30_000,
      100,
      this.stopped,
    );
    return proc;
  }

  /** SIGKILLs the bot and waits for it to be gone. */
  async killBot(): Promise<void> {
    await this.bot?.kill('SIGKILL');
  }

  async restartBot(): Promise<Proc> {
    if (this.bot?.alive) await this.killBot();
    return this.startBot();
  }

  // -- workers

  /** Spawns `dailies worker` and waits for its "ready" line (model loaded, taking jobs). */
  async startWorker(): Promise<Proc> {
    const proc = this.spawnProc(`worker#${++this.workerCount}`, process.execPath, [CLI, 'worker']);
    this.workers.push(proc);
    const match = await this.waitForLine(proc, /worker (\S+) ready/, 'its "ready" line', 120_000);
    proc.workerId = match[1]!;
    return proc;
  }

  /** Starts redis-server, then the bot and the workers side by side. */
  async start(options: ClusterOptions = {}): Promise<void> {
    await this.startRedis();
    const starting: Promise<unknown>[] = [];
    if (options.bot !== false) starting.push(this.startBot());
    for (let i = 0; i < (options.workers ?? 2); i++) starting.push(this.startWorker());
    await Promise.all(starting);
  }

  // -- web chat API

  command(body: Record<string, unknown>, timeoutMs = 30_000): Promise<HttpResult> {
    return request('POST', `${this.url}/api/commands`, { channel: 'general', ...body }, timeoutMs);
  }

  async thread(id: string): Promise<ThreadView> {
    const res = await request('GET', `${this.url}/api/threads/${id}?limit=1000`, undefined, 10_000);
    if (res.status !== 200) throw new Error(`GET /api/threads/${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as ThreadView;
  }

  /** Session roots of a channel: the way to find the thread of a command whose answer was lost. */
  async roots(channel = 'general'): Promise<Message[]> {
    const res = await request('GET', `${this.url}/api/channels/${channel}?limit=1000`, undefined, 10_000);
    if (res.status !== 200) throw new Error(`GET /api/channels/${channel} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return (res.body as { messages: Message[] }).messages.filter((m) => m.root);
  }

  // -- BullMQ, read directly

  /** BullMQ's event stream for the render queue (workers' 'started' progress, 'stalled', 'completed'...). */
  async queueEvents(): Promise<QueueEvent[]> {
    return this.withRedis(async (redis) => {
      const entries = await redis.xrange(`${this.queueKeyPrefix}events`, '-', '+');
      return entries.map(([id, fields]) => {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        let data: any = null;
        if (f.data) {
          try {
            data = JSON.parse(f.data);
          } catch {
            data = f.data;
          }
        }
        return { at: Number(id.split('-')[0]), event: f.event ?? '', jobId: f.jobId ?? null, data, fields: f };
      });
    });
  }

  async completedCount(): Promise<number> {
    return this.withRedis((redis) => redis.zcard(`${this.queueKeyPrefix}completed`));
  }

  /** Jobs BullMQ still has to run (waiting, prioritized, delayed, active). */
  async unfinishedCount(): Promise<number> {
    return this.withRedis(async (redis) => {
      const p = this.queueKeyPrefix;
      const [wait, active, paused, prioritized, delayed] = await Promise.all([
        redis.llen(`${p}wait`),
        redis.llen(`${p}active`),
        redis.llen(`${p}paused`),
        redis.zcard(`${p}prioritized`),
        redis.zcard(`${p}delayed`),
      ]);
      return wait + active + paused + prioritized + delayed;
    });
  }

  /**
   * Render timings of the completed jobs, from BullMQ's job hashes: how long renders took on
   * this machine, so a slow run can be told from a stuck one.
   */
  async renderTimes(): Promise<{ jobs: number; medianRenderMs: number; firstAdded: number; lastFinished: number } | null> {
    return this.withRedis(async (redis) => {
      const ids = await redis.zrange(`${this.queueKeyPrefix}completed`, 0, -1);
      if (!ids.length) return null;
      const rows = await Promise.all(ids.map((id) => redis.hmget(`${this.queueKeyPrefix}${id}`, 'timestamp', 'processedOn', 'finishedOn')));
      const jobs = rows.map((r) => r.map(Number) as [number, number, number]).filter((r) => r.every(Number.isFinite));
      if (!jobs.length) return null;
      const renders = jobs.map(([, p, f]) => f - p).sort((a, b) => a - b);
      return {
        jobs: jobs.length,
        medianRenderMs: renders[Math.floor(renders.length / 2)]!,
        firstAdded: Math.min(...jobs.map(([t]) => t)),
        lastFinished: Math.max(...jobs.map(([, , f]) => f)),
      };
    });
  }

  /** Jobs BullMQ holds in any state: how many of the commands admission has handed over so far. */
  async queuedJobCount(): Promise<number> {
    return this.withRedis(async (redis) => {
      const p = this.queueKeyPrefix;
      const counts = await Promise.all([
        ...['wait', 'paused', 'active'].map((k) => redis.llen(`${p}${k}`)),
        ...['prioritized', 'delayed', 'completed', 'failed', 'waiting-children'].map((k) => redis.zcard(`${p}${k}`)),
      ]);
      return counts.reduce((a, b) => a + b, 0);
    });
  }

  async jobExists(jobId: string): Promise<boolean> {
    return this.withRedis(async (redis) => (await redis.exists(`${this.queueKeyPrefix}${jobId}`)) === 1);
  }

  /** A session document as the bot stored it (for round deadlines). */
  async sessionDoc(sessionId: string): Promise<any> {
    return this.withRedis(async (redis) => {
      const json = await redis.hget(`${this.prefix}:s:session:${sessionId}`, 'doc');
      return json ? JSON.parse(json) : null;
    });
  }

  // -- the end

  /** Everything every child printed, in start order; long outputs keep their end. */
  logs(): string {
    return this.procs.map((p) => `===== ${p.name} (pid ${p.pid}) =====\n${tail(p.output(), 40_000)}`).join('\n');
  }

  async cleanup(): Promise<void> {
    this.closed ??= 'the cluster was cleaned up';
    // Bots and workers first, so they do not log a storm of Redis errors; redis-server last.
    const isRedis = (p: Proc) => p.name.startsWith('redis-server');
    const order = [...this.procs.filter((p) => !isRedis(p)), ...this.procs.filter(isRedis)];
    for (const proc of order) {
      if (!proc.alive) continue;
      await Promise.race([proc.kill('SIGKILL'), sleep(10_000)]);
    }
    await rm(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
  }
}

/**
 * A cluster for the running test: created, started with `options`, printed (every child's output)
 * if the test fails, and cleaned up however the test ends.
 */
export async function useCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const cluster = await Cluster.create(options);
  onTestFailed(() => {
    console.log(`----- reliability: output of every process (prefix ${cluster.prefix}, redis :${cluster.redisPort}, web ${cluster.url}) -----\n${cluster.logs()}`);
  });
  onTestFinished(() => cluster.cleanup(), 60_000);
  await cluster.start(options);
  return cluster;
}

function tail(text: string, max = 20_000): string {
  return text.length <= max ? text : `[… ${text.length - max} characters cut …]\n${text.slice(-max)}`;
}

// ---- what ends up in the threads ----------------------------------------------------------------

export interface Attachment {
  kind: string;
  url: string;
}

export interface Message {
  id: string;
  text: string;
  root: boolean;
  thread: string;
  author: { id: string; name: string; bot: boolean };
  attachments: Attachment[];
  invocation: { user: string; command: string } | null;
  createdAt: number;
  editedAt: number | null;
}

export interface ThreadView {
  thread: { id: string };
  messages: Message[];
  session: { id: string; jobs: { jobId: string; state: string; takes: number; error: string | null }[] } | null;
}

export interface QueueEvent {
  /** Redis server time of the entry (ms). */
  at: number;
  event: string;
  jobId: string | null;
  data: any;
  fields: Record<string, string>;
}

export function finalsOf(messages: Message[]): Message[] {
  return messages.filter((m) => m.attachments.some((a) => a.kind === 'final'));
}

export function finalCount(messages: Message[]): number {
  return messages.reduce((n, m) => n + m.attachments.filter((a) => a.kind === 'final').length, 0);
}

/** The refusal shown in the thread (a job's progress message ending in "Failed: …"), if any. */
export function refusalIn(messages: Message[]): string | null {
  for (const m of messages) {
    if (!m.author.bot) continue;
    const line = m.text.split('\n').find((l) => l.startsWith('Failed:'));
    if (line) return line;
  }
  return null;
}

/**
 * What each bot message is, for spotting double posts: a job's progress message (one per job,
 * edited in place), a take, a preview step, a vote tally (one per round, edited), a round result.
 * Two messages of one thread with the same key are the same item posted twice.
 */
export function postKey(m: Message): string {
  const first = m.text.split('\n')[0] ?? '';
  if (/^(\d+ takes?|\d+ variations?|Final of take \d+|Extension of v\d+#\d+) · (shot \d+ · )?v\d+|^(Bridge|Cut \d+) /.test(first)) return `progress message "${first}"`;
  if (/^Take \d+ of v\d+ · seed/.test(first)) return `take "${first}"`;
  if (/^Final · take|^Film · cut/.test(first)) return `final "${first}"`;
  const round = /^Votes for v\d+/.exec(first);
  if (round) return `vote tally "${round[0]}"`;
  const result = /^Take \d+ of (v\d+) wins|^Voting on (v\d+) closed/.exec(first);
  if (result) return `round result for ${result[1] ?? result[2]}`;
  return `message "${m.text}"`;
}

/** Items posted more than once in a thread (bot messages only; the root is the command itself). */
export function duplicatesIn(messages: Message[]): string[] {
  const seen = new Map<string, Message[]>();
  const urls = new Map<string, number>();
  for (const m of messages) {
    if (m.root || !m.author.bot) continue;
    const key = postKey(m);
    seen.set(key, [...(seen.get(key) ?? []), m]);
    for (const a of m.attachments) urls.set(a.url, (urls.get(a.url) ?? 0) + 1);
  }
  const texts = (ms: Message[]) => ms.map((m) => `'${m.text.split('\n').slice(1).join(' | ') || m.text}'`).join(' / ');
  return [
    ...[...seen].filter(([, ms]) => ms.length > 1).map(([key, ms]) => `${key} ×${ms.length} (${texts(ms)})`),
    ...[...urls].filter(([, n]) => n > 1).map(([url, n]) => `attachment ${url} ×${n}`),
  ];
}

// ---- commands and their outcomes ------------------------------------------------------------------

/** One /video as sent by the test: who, with what id, and what became of it. */
export interface Sent {
  user: string;
  id: string;
  options: Record<string, unknown>;
  takes: number;
  /** Last HTTP answer (status + body), or null while none arrived. */
  answer: HttpResult | null;
  /** Network error or timeout of the last attempt. */
  error: string | null;
  attempts: number;
  thread: string | null;
}

export function video(user: string, id: string, options: Record<string, unknown>): Sent {
  return { user, id, options: { ...options }, takes: Number(options.takes ?? 2), answer: null, error: null, attempts: 0, thread: null };
}

const run = randomBytes(3).toString('hex');

/**
 * `n` commands `/video` from `n` people (`<name>-<i>`; one user each, so the per-person cap and
 * rate limit never refuse them, and a lost answer can be traced to its thread by user), each
 * with an id of its own so that sending it again is the same command.
 */
export function videos(name: string, n: number, options: Record<string, unknown>): Sent[] {
  return Array.from({ length: n }, (_, i) => video(`${name}-${i}`, `${name}-${run}-${i}`, { prompt: `a red circle moving left ${i}`, ...options }));
}

/** POSTs the command (again, with the same id, when called again); records the answer or the error. */
export async function send(cluster: Cluster, sent: Sent, timeoutMs = 30_000): Promise<Sent> {
  sent.attempts++;
  try {
    sent.answer = await cluster.command({ user: sent.user, name: 'video', options: sent.options, id: sent.id }, timeoutMs);
    sent.error = null;
    if (typeof sent.answer.body?.thread === 'string') sent.thread = sent.answer.body.thread;
  } catch (error) {
    sent.error = (error as Error).message;
  }
  return sent;
}

/** The bot took the command: 200 (thread known or not) or 202 pending. */
export function acknowledged(sent: Sent): boolean {
  return sent.answer !== null && (sent.answer.status === 200 || sent.answer.status === 202) && !sent.answer.body?.error;
}

/** Commands the bot did not take, each with its answer (or the network error / timeout). */
export function unacknowledged(commands: Sent[]): string[] {
  return commands
    .filter((c) => !acknowledged(c))
    .map((c) => `${c.user}: ${c.answer ? `HTTP ${c.answer.status} ${JSON.stringify(c.answer.body?.error ?? c.answer.body)}` : c.error}`);
}

export interface Outcome {
  sent: Sent;
  thread: string | null;
  /** Session threads beyond the first one found for the same command (a command run twice). */
  extraThreads: string[];
  finals: number;
  refusal: string | null;
  duplicates: string[];
  lastText: string;
  /** createdAt of the newest message with a final attachment. */
  lastFinalAt: number | null;
  messages: Message[];
}

/** Reads where every command stands; commands acknowledged without a thread id are looked up by user. */
export async function outcomes(cluster: Cluster, commands: Sent[]): Promise<Outcome[]> {
  let roots: Message[] | null = null;
  const out: Outcome[] = [];
  for (const sent of commands) {
    // Every command has a user of its own, so the channel's roots show whether it ran more than once.
    roots ??= await cluster.roots();
    const mine = roots.filter((r) => r.invocation?.user === sent.user).map((r) => r.thread);
    sent.thread ??= mine[0] ?? null;
    const extraThreads = mine.filter((t) => t !== sent.thread);
    if (!sent.thread) {
      out.push({ sent, thread: null, extraThreads, finals: 0, refusal: null, duplicates: [], lastText: '', lastFinalAt: null, messages: [] });
      continue;
    }
    const view = await cluster.thread(sent.thread);
    const bot = view.messages.filter((m) => !m.root && m.author.bot);
    const finals = finalsOf(view.messages);
    out.push({
      sent,
      thread: sent.thread,
      extraThreads,
      finals: finalCount(view.messages),
      refusal: refusalIn(view.messages),
      duplicates: duplicatesIn(view.messages),
      lastText: bot.map((m) => m.text.replace(/\n/g, ' | ')).join(' || ').slice(-400),
      lastFinalAt: finals.length ? Math.max(...finals.map((m) => m.createdAt)) : null,
      messages: view.messages,
    });
  }
  return out;
}

function finished(o: Outcome): boolean {
  return o.finals >= o.sent.takes || o.refusal !== null;
}

/**
 * Waits until every command has its finals (or a refusal) in its thread, or `timeoutMs` passes,
 * or nothing has changed for `quietMs` while BullMQ has nothing left to run (what is missing then
 * will not come, and a failing run should not wait out the whole deadline). Then watches two
 * sweep intervals more, so that a late double post shows up, and returns the outcomes as they are
 * then. Never throws on timeout: `problems()` says what is missing.
 */
export async function waitForOutcomes(cluster: Cluster, commands: Sent[], timeoutMs: number, quietMs = 30_000): Promise<Outcome[]> {
  let signature = '';
  let changedAt = Date.now();
  await waitUpTo(
    'every thread to have its finals',
    async () => {
      if (cluster.stopped()) return true;
      let results: Outcome[];
      try {
        results = await outcomes(cluster, commands);
      } catch {
        return false;
      }
      if (results.every(finished)) return true;
      const unfinished = await cluster.unfinishedCount().catch(() => -1);
      const now = JSON.stringify([results.map((o) => [o.thread, o.finals, o.refusal, o.messages.length]), unfinished]);
      if (now !== signature) {
        signature = now;
        changedAt = Date.now();
        return false;
      }
      return unfinished === 0 && Date.now() - changedAt > quietMs;
    },
    timeoutMs,
    500,
  );
  // A double post would come from a sweep or a reconciliation pass: give it two of them.
  await waitUpTo('the queue to be idle', async () => (await cluster.unfinishedCount().catch(() => 1)) === 0, 15_000, 250);
  await sleep(2 * SWEEP_INTERVAL_MS + 1_000);
  const times = await cluster.renderTimes().catch(() => null);
  if (times) {
    note(`renders: ${times.jobs} completed, median ${times.medianRenderMs} ms each; first queued to last finished ${((times.lastFinished - times.firstAdded) / 1000).toFixed(1)} s`);
  }
  return waitFor('the threads to be readable', () => outcomes(cluster, commands), 30_000, 500);
}

/**
 * Everything wrong with the outcomes, one line per command: no thread, a number of finals other
 * than the takes asked for (unless `allowRefusal` and the thread shows one clear refusal), or an
 * item posted twice. Commands answered with an error and without a thread are skipped (check
 * their answers with `unacknowledged`); one answered with an error that still opened a thread
 * must end like any other. An empty list is the contract kept.
 */
export function problems(results: Outcome[], options: { allowRefusal?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const o of results) {
    const who = `${o.sent.user} (id ${o.sent.id}${o.thread ? `, thread ${o.thread}` : ''})`;
    // Refused at the door and nothing started: the person was told; the caller checks the answer.
    if (!acknowledged(o.sent) && !o.thread) continue;
    if (!o.thread) {
      lines.push(`${who}: acknowledged (HTTP ${o.sent.answer?.status} ${JSON.stringify(o.sent.answer?.body)}) but no session thread exists`);
      continue;
    }
    const refused = options.allowRefusal && o.refusal !== null && o.finals === 0;
    if (o.finals !== o.sent.takes && !refused) {
      lines.push(`${who}: ${o.finals} final(s) for ${o.sent.takes} take(s)${o.refusal ? ` and "${o.refusal}"` : ''}; thread: ${o.lastText}`);
    }
    if (o.duplicates.length) lines.push(`${who}: posted twice: ${o.duplicates.join('; ')}`);
    if (o.extraThreads.length) lines.push(`${who}: the command ran more than once: other session threads ${o.extraThreads.join(', ')}`);
  }
  return lines;
}

/** A one-line summary for the log: how many commands ended how. */
export function summary(results: Outcome[]): string {
  const atDoor = results.filter((o) => !acknowledged(o.sent) && !o.thread).length;
  const rest = results.filter((o) => acknowledged(o.sent) || o.thread);
  const complete = rest.filter((o) => o.finals === o.sent.takes && !o.duplicates.length && !o.extraThreads.length).length;
  const refused = rest.filter((o) => o.finals === 0 && o.refusal).length;
  const missing = rest.filter((o) => o.finals < o.sent.takes && !o.refusal).length;
  const doubled = rest.filter((o) => o.finals > o.sent.takes || o.duplicates.length || o.extraThreads.length).length;
  return (
    `${results.length} commands, ${results.length - atDoor} acknowledged or with a thread: ${complete} with exactly their finals and nothing doubled, ` +
    `${refused} refused in the thread, ${missing} missing finals, ${doubled} with double posts${atDoor ? `; ${atDoor} refused in the answer` : ''}`
  );
}

/** An observation for the test's log (not a figure). */
export function note(line: string): void {
  console.log(`[reliability] ${line}`);
}

/** The figure lines for the lead's report: `reliability: <what>: <value>`. */
export function figure(line: string): void {
  console.log(`reliability: ${line}`);
}
