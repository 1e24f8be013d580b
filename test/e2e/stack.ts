import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';

/**
 * `dailies start` as a real child process — the same command a person runs — on its own Redis key
 * prefix, artifacts directory and free port, so end-to-end files can run beside the rest of the
 * suite on the shared Redis and leave nothing behind.
 */

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
}

export interface Stack {
  url: string;
  prefix: string;
  artifactsDir: string;
  child: ChildProcess;
  /** Everything the child printed so far (stdout and stderr interleaved). */
  log(): string;
  /** Resolves with the exit, however it happens. */
  exited: Promise<Exit>;
  /** Sends SIGTERM and waits up to `timeoutMs` for the exit; null when it did not exit in time. */
  stop(timeoutMs: number): Promise<Exit | null>;
  /** Kills a child that is still running, deletes the prefix's keys and the artifacts directory. */
  cleanup(): Promise<void>;
}

/**
 * Polls `check` until it returns something other than undefined/false. The machine is shared
 * with model training, so waits are for conditions with generous deadlines, never fixed sleeps.
 */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function deleteKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  let deleted = 0;
  try {
    deleted = await deleteKeysStartingWith(redis, `${prefix}:`);
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function startStack(options: { env?: Record<string, string>; readyTimeoutMs?: number } = {}): Promise<Stack> {
  const prefix = `e2e-${randomBytes(6).toString('hex')}`;
  const artifactsDir = await mkdtemp(join(tmpdir(), 'dailies-e2e-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', DAILIES_PREFIX: prefix, ARTIFACTS_DIR: artifactsDir, REDIS_URL, ...options.env };
  // A developer's chat tokens in the environment must not connect this run to a real workspace.
  for (const name of ['DISCORD_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'MODEL_DIR']) delete env[name];
  // Inside vitest, NODE_OPTIONS/VITEST variables would change how the child loads its modules.
  for (const name of Object.keys(env)) if (name.startsWith('VITEST') || name === 'NODE_OPTIONS' || name === 'TEST') delete env[name];

  const child = spawn(process.execPath, [join(ROOT, 'cli/dailies.js'), 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const started = Date.now();
  let stopSent = 0;
  const exited = new Promise<Exit>((done) => child.once('exit', (code, signal) => done({ code, signal, ms: Date.now() - (stopSent || started) })));
  let exit: Exit | null = null;
  void exited.then((e) => (exit = e));

  const cleanup = async () => {
    if (exit === null && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await deleteKeys(prefix);
    await rm(artifactsDir, { recursive: true, force: true });
  };

  try {
    const url = await waitFor(
      'the "web chat:" line',
      () => {
        if (exit) throw new Error(`dailies start exited (${exit.code ?? exit.signal}) before it was ready:\n${output}`);
        return /web chat: (http:\/\/[^\s"]+)/.exec(output)?.[1];
      },
      options.readyTimeoutMs ?? 120_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- dailies start output ---\n${output}`);
    });
    // Renders need the worker; its model loads after the web chat is already serving.
    await waitFor('the worker to load its model', () => {
      if (exit) throw new Error(`dailies start exited:\n${output}`);
      return /worker ready/.test(output);
    }, options.readyTimeoutMs ?? 120_000);
    await waitFor('GET /api/health', async () => {
      const res = await fetch(`${url}/api/health`);
      return res.ok && ((await res.json()) as { running: boolean }).running;
    }, 30_000);
    return {
      url,
      prefix,
      artifactsDir,
      child,
      log: () => output,
      exited,
      async stop(timeoutMs) {
        if (exit) return exit;
        stopSent = Date.now();
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<null>((r) => (timer = setTimeout(r, timeoutMs, null)));
        const result = await Promise.race([exited, late]);
        clearTimeout(timer);
        return result;
      },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** POSTs JSON and returns the status and parsed body (the local chat answers JSON on every route). */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

export async function getJson(url: string): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
