import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LogLevel } from '@slack/bolt';
import { Client } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { listen } from '../../bots/discord/gateway.ts';
import { PlaceMemory } from '../../bots/discord/place-memory.ts';
import { RateLimitLog } from '../../bots/discord/rate-limit-log.ts';
import { boltLogger } from '../../bots/slack/bolt-logger.ts';
import { loadConfig, logSettings } from '../../src/config.ts';
import type { Logger } from '../../src/core/ports/logger.ts';
import { createLogger, type LoggerOptions } from '../../src/logging/logger.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// Credentials shaped like the real ones; none of them may reach a line.
const DISCORD_TOKEN = 'MTI4NjQ2NzI5MzQ1OTQ4ODc2OA.GdR2xk.QpZ7k3m9VwXy2Lr8Tn4Bc6Hj1Ks5Ue0Fa9Gd3Ii';
const SLACK_BOT_TOKEN = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx';
const SLACK_APP_TOKEN = 'xapp-1-A0123456789-1234567890123-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const ADMIN_TOKEN = 'admin-7c1e0b5a-3f44-4f0e-9d2c-5b1a8e6f2d90';
const REDIS_PASSWORD = 'redis-pw-4e1f9b2c';
const SECRETS = [DISCORD_TOKEN, SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SIGNING_SECRET, ADMIN_TOKEN, REDIS_PASSWORD];

/** A logger writing into an array of parsed lines, with the raw text kept for "absent" checks. */
function capture(options: Partial<LoggerOptions> = {}) {
  const raw: string[] = [];
  const logger = createLogger({ level: 'info', ...options, destination: { write: (line: string) => void raw.push(line) } });
  return { logger, raw, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the process logger', () => {
  it('writes one JSON object a line: numeric level, ISO time, pid, msg', () => {
    const { logger, raw, lines } = capture();
    logger.info('web chat: http://127.0.0.1:8080');
    expect(raw).toHaveLength(1);
    expect(raw[0]!.endsWith('\n')).toBe(true);
    expect(raw[0]!.trimEnd()).not.toContain('\n');
    const [line] = lines();
    expect(line).toMatchObject({ level: 30, msg: 'web chat: http://127.0.0.1:8080', pid: process.pid });
    expect(new Date(line!.time as string).toISOString()).toBe(line!.time);
  });

  it('honours the level: lines below it are not written', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.debug('a debug line');
    logger.info('an info line');
    logger.warn('a warning');
    logger.error('an error');
    expect(lines().map((l) => [l.level, l.msg])).toEqual([
      [40, 'a warning'],
      [50, 'an error'],
    ]);
    const silent = capture({ level: 'silent' });
    silent.logger.fatal('never');
    expect(silent.raw).toEqual([]);
  });

  it('takes the level from LOG_LEVEL, and refuses a bad one in one sentence', () => {
    expect(logSettings({ LOG_LEVEL: 'debug' }).level).toBe('debug');
    expect(logSettings({ LOG_LEVEL: 'trace' }).level).toBe('trace');
    expect(logSettings({}).level).toBe('info');
    // The logger still starts (at info); loading the settings is what says what is wrong.
    expect(logSettings({ LOG_LEVEL: 'loud' }).level).toBe('info');
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/^Environment: LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent; fix the variable and restart\.$/);
    expect(loadConfig({ LOG_LEVEL: 'silent' }).LOG_LEVEL).toBe('silent');
  });

  it("carries a child's bindings on each of its lines", () => {
    const { logger, lines } = capture();
    const discord = logger.child({ platform: 'discord' });
    discord.warn('discord: warning');
    discord.child({ shard: 0 }).error('discord: gateway closed');
    logger.info('no platform');
    expect(lines().map(({ platform, shard, msg }) => ({ platform, shard, msg }))).toEqual([
      { platform: 'discord', shard: undefined, msg: 'discord: warning' },
      { platform: 'discord', shard: 0, msg: 'discord: gateway closed' },
      { platform: undefined, shard: undefined, msg: 'no platform' },
    ]);
  });

  it("keeps the Logger port's detail as a field: an error as err, anything else as detail", () => {
    const { logger, lines } = capture();
    const port: Logger = logger;
    port.warn('could not update message m1', new Error('Unknown Message'));
    port.error('delivery of job j1 failed', { jobId: 'j1', attempt: 2 });
    port.warn('just a message');
    const [withError, withDetail, plain] = lines();
    expect(withError).toMatchObject({ level: 40, msg: 'could not update message m1', err: { type: 'Error', message: 'Unknown Message' } });
    expect(withError!.err).toHaveProperty('stack');
    expect(withDetail).toMatchObject({ level: 50, msg: 'delivery of job j1 failed', detail: { jobId: 'j1', attempt: 2 } });
    expect(Object.keys(plain!).sort()).toEqual(['hostname', 'level', 'msg', 'pid', 'time']);
  });

  it('never writes a token, a signing secret or a URL password, in fields, messages or errors', () => {
    const { logger, raw } = capture({ secrets: [SIGNING_SECRET, ADMIN_TOKEN] });
    // Keyed fields, at the top and nested.
    logger.info({ token: DISCORD_TOKEN, config: { botToken: SLACK_BOT_TOKEN, signingSecret: SIGNING_SECRET, appToken: SLACK_APP_TOKEN } }, 'settings');
    logger.warn({ detail: { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } } }, 'admin request refused');
    // URLs, in a url field and inside a message.
    logger.info({ url: `redis://:${REDIS_PASSWORD}@redis:6379/0` }, 'connecting');
    logger.error(`redis: connect ECONNREFUSED rediss://default:${REDIS_PASSWORD}@cache.example:6380`);
    // Errors: in the message, the stack, and a library's request config.
    const err = Object.assign(new Error(`An API error occurred: invalid_auth for ${SLACK_BOT_TOKEN}`), {
      config: { headers: { Authorization: `Bearer ${SLACK_BOT_TOKEN}` } },
      code: 'slack_webapi_platform_error',
    });
    logger.error({ err }, 'slack: auth.test failed');
    logger.warn('discord: login failed', new Error(`401 with token ${DISCORD_TOKEN}`));
    // Unkeyed strings that are known secrets or token-shaped.
    logger.info(`socket mode with ${SLACK_APP_TOKEN}, admin ${ADMIN_TOKEN}, secret ${SIGNING_SECRET}`);
    logger.debug('below the level, but still nothing to leak');

    const text = raw.join('');
    expect(raw).toHaveLength(7);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).toContain('redis://***@redis:6379/0');
    expect(text).toContain('rediss://***@cache.example:6380');
    expect(text).toContain('[redacted]');
    // What names a problem survives the redaction.
    expect(text).toContain('invalid_auth');
    expect(text).toContain('slack_webapi_platform_error');
  });
});

describe('platform libraries log through it', () => {
  it("routes Bolt's lines to the slack child, without its tokens", () => {
    const { logger, lines, raw } = capture({ level: 'debug' });
    const bolt = boltLogger(logger.child({ platform: 'slack' }), LogLevel.DEBUG, () => [SLACK_BOT_TOKEN, SIGNING_SECRET]);
    bolt.debug('http request', { headers: { authorization: `Bearer ${SLACK_BOT_TOKEN}` } });
    bolt.warn('signature mismatch for secret', SIGNING_SECRET);
    bolt.setLevel(LogLevel.WARN);
    bolt.info('dropped below Bolt level');
    expect(lines().map((l) => [l.platform, l.level])).toEqual([
      ['slack', 20],
      ['slack', 40],
    ]);
    for (const secret of SECRETS) expect(raw.join('')).not.toContain(secret);
  });

  it("routes discord.js's warn, error, debug and rateLimited events to the discord child", async () => {
    const { logger, lines, raw } = capture({ level: 'debug' });
    const client = new Client({ intents: [] });
    try {
      listen(client, new PlaceMemory(), logger.child({ platform: 'discord' }), new RateLimitLog(), {
        onInteraction: async () => {},
        onMessage: async () => {},
        isCurrent: () => true,
      });
      client.emit('warn', 'session limit low');
      client.emit('error', new Error('shard zombie'));
      client.emit('debug', `[WS => Manager] Provided token: ${DISCORD_TOKEN}`);
      const info = { route: '/channels/:id/messages', method: 'PATCH', retryAfter: 1200, global: false, hash: 'h', url: 'u', limit: 5, majorParameter: '1', sublimitTimeout: 0, scope: 'user' as const, timeToReset: 1200 };
      client.rest.emit('rateLimited', info);
      client.rest.emit('rateLimited', info); // folded into the first's window
      expect(lines().map((l) => [l.platform, l.level, l.msg])).toEqual([
        ['discord', 40, 'discord: warning'],
        ['discord', 50, 'discord: client error'],
        ['discord', 20, 'discord.js'],
        ['discord', 40, 'discord: rate limited; discord.js queues the requests and retries'],
      ]);
      expect(raw.join('')).not.toContain(DISCORD_TOKEN);
    } finally {
      await client.destroy();
    }
  });
});

describe('every process and worker thread logs the same way', () => {
  it('a process and its worker thread write JSON at LOG_LEVEL, the thread marked, with the env credentials blanked', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dailies-log-'));
    try {
      const logger = pathToFileURL(path.join(ROOT, 'src/logging/logger.ts')).href;
      const entry = path.join(dir, 'thread.mts');
      await writeFile(entry, `import { processLogger } from ${JSON.stringify(logger)};\nprocessLogger().info('info from the thread');\nprocessLogger().warn('warning from the thread with ${SIGNING_SECRET}');\n`);
      const main = path.join(dir, 'main.mts');
      await writeFile(
        main,
        [
          `import { Worker } from 'node:worker_threads';`,
          `import { processLogger } from ${JSON.stringify(logger)};`,
          `processLogger().info('info from main');`,
          `processLogger().error('error from main, token ${DISCORD_TOKEN}');`,
          `const w = new Worker(new URL(${JSON.stringify(pathToFileURL(path.join(ROOT, 'workers/thread-boot.mjs')).href)}), { workerData: { entry: ${JSON.stringify(pathToFileURL(entry).href)} } });`,
          `await new Promise((done) => w.once('exit', done));`,
        ].join('\n'),
      );
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', main], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', SLACK_SIGNING_SECRET: SIGNING_SECRET, DISCORD_TOKEN },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => [l.level, l.thread, String(l.msg).split(',')[0]])).toEqual([
        [50, undefined, 'error from main'],
        [40, expect.any(Number), 'warning from the thread with [redacted]'],
      ]);
      expect(r.stderr).not.toContain(SIGNING_SECRET);
      expect(r.stderr).not.toContain(DISCORD_TOKEN);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
