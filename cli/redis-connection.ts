import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { DailiesError } from '../src/errors.ts';
import { redactUrl } from '../src/redact-url.ts';

/**
 * Finds Redis for `dailies start`: the one at REDIS_URL, or — when nothing answers there, the URL
 * is local and `redis-server` is on the PATH — a child redis-server that lives as long as we do,
 * with its append-only file under `dataDir` so sessions survive a restart of `npm start`.
 */

/** True when a Redis server answers PING at `url` within `timeoutMs`; one attempt, no retries. */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function isLocal(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname);
}

export interface RedisHandle {
  url: string;
  /** Set when we started redis-server ourselves. */
  child?: ChildProcess;
  stop(): Promise<void>;
}

export async function ensureRedis(url: string, dataDir: string, log: (line: string) => void): Promise<RedisHandle> {
  if (await redisAnswers(url)) return { url, stop: async () => {} };
  const parsed = new URL(url);
  const howTo = 'start Redis (`sudo apt-get install redis-server`, or `docker compose up redis`) or point REDIS_URL at one.';
  if (!isLocal(parsed)) throw new DailiesError('unavailable', `Nothing answers at ${redactUrl(url)}; ${howTo}`);
  const port = Number(parsed.port || 6379);
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true });
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir], {
    stdio: 'ignore',
    // Its own process group: Ctrl-C in the terminal must not kill Redis before we have shut down.
    detached: true,
  });
  const failed = new Promise<'failed'>((done) => {
    child.once('error', () => done('failed'));
    child.once('exit', () => done('failed'));
  });
  for (let i = 0; i < 50; i++) {
    const state = await Promise.race([failed, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 100))]);
    if (state === 'failed') throw new DailiesError('unavailable', `Nothing answers at ${redactUrl(url)} and redis-server could not be started; ${howTo}`);
    if (await redisAnswers(url, 500)) {
      log(`started redis-server on port ${port} (data in ${dir})`);
      return {
        url,
        child,
        stop: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
  }
  child.kill('SIGKILL');
  throw new DailiesError('unavailable', `redis-server started but did not answer at ${redactUrl(url)}; ${howTo}`);
}
