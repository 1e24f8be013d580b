import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { DailiesError } from '../../src/errors.ts';
import { redisOptionsFromUrl, redisUrlProblem } from '../../src/queue/redis-options.ts';
import { redactUrl } from '../../src/redact-url.ts';
import { parseWorkerArgs } from '../../cli/worker.ts';

/** Issue 11, item 6: a bad REDIS_URL is one sentence without its password, and the commands exit 1. */

const SECRET = 'S3cretPassw0rd';
const DAILIES = fileURLToPath(new URL('../../cli/dailies.js', import.meta.url));

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Only what the command needs: no chat tokens, so nothing but the configuration is touched.
    const child = spawn(process.execPath, [DAILIES, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A command that starts up instead of refusing would run forever.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('redactUrl', () => {
  it.each([
    [`redis://:${SECRET}@host/abc`, 'redis://***@host/abc'],
    [`redis://user:${SECRET}@host:6379/0`, 'redis://***@host:6379/0'],
    [`rediss://user:p@ss${SECRET}@host`, 'rediss://***@host'],
    [`user:${SECRET}@host:6379`, '***@host:6379'],
    [`redis://:pa/ss${SECRET}@host`, 'redis://***@host'],
    ['redis://127.0.0.1:6379/2', 'redis://127.0.0.1:6379/2'],
    ['not a url', 'not a url'],
  ])('%s -> %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});

describe('REDIS_URL validation', () => {
  it.each([
    [`redis://:${SECRET}@127.0.0.1:6379/abc`, '"redis://***@127.0.0.1:6379/abc" has "abc" where the db number goes'],
    [`redis://u:${SECRET}@127.0.0.1/-1`, '"redis://***@127.0.0.1/-1" has "-1" where the db number goes'],
    [`http://u:${SECRET}@127.0.0.1:6379`, '"http://***@127.0.0.1:6379" starts with http:'],
    [`redis://:${SECRET}@`, `"redis://***@" is not a URL`],
    [`redis://:${SECRET}%zz@host`, '"redis://***@host" has a broken %-escape in its user name or password'],
    ['redis://', '"redis://" names no host'],
  ])('%s is refused', (url, problem) => {
    expect(redisUrlProblem(url)).toBe(problem);
    const message = `Environment: REDIS_URL must look like redis://[user:password@]host[:port][/db] (rediss:// for TLS, db a whole number), but ${problem}; fix the variable and restart.`;
    expect(() => loadConfig({ REDIS_URL: url })).toThrow(message);
    expect(() => redisOptionsFromUrl(url)).toThrow(DailiesError);
    expect(() => parseWorkerArgs([], { REDIS_URL: url })).toThrow(`REDIS_URL must look like`);
    expect(() => parseWorkerArgs(['--redis', url], {})).toThrow(`--redis must look like`);
    for (const thrower of [() => loadConfig({ REDIS_URL: url }), () => redisOptionsFromUrl(url), () => parseWorkerArgs(['--redis', url], {})]) {
      expect(thrower).toThrow(expect.objectContaining({ message: expect.not.stringContaining(SECRET) }));
    }
  });

  it('accepts the usual forms', () => {
    for (const url of ['redis://127.0.0.1:6379', 'redis://localhost', `redis://:${SECRET}@host:6380/3`, `rediss://user:${SECRET}@host/0`, 'redis://host/']) {
      expect(redisUrlProblem(url), url).toBeNull();
    }
    expect(loadConfig({}).REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(redisOptionsFromUrl(`rediss://user:${SECRET}@host:6380/3`)).toEqual({ host: 'host', port: 6380, username: 'user', password: SECRET, db: 3, tls: {} });
  });
});

describe('dailies start, bot and worker with a bad REDIS_URL', () => {
  it.each([['start'], ['bot'], ['worker']])('dailies %s exits 1 with one line and no password', async (command) => {
    const { code, stdout, stderr } = await run([command], { REDIS_URL: `redis://:${SECRET}@127.0.0.1:6379/abc` });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: (Environment: )?REDIS_URL must look like redis:\/\/.*"redis:\/\/\*\*\*@127\.0\.0\.1:6379\/abc" has "abc" where the db number goes; fix the variable and restart\.$/);
    expect(stdout + stderr).not.toContain(SECRET);
  }, 60_000);

  it('dailies worker --redis names the option', async () => {
    const { code, stderr } = await run(['worker', '--redis', `redis://:${SECRET}@127.0.0.1/x`], {});
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: --redis must look like .*; fix the option and run again\.$/)]);
    expect(stderr).not.toContain(SECRET);
  }, 60_000);
});
