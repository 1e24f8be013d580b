import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { RedisAuditLog } from '../../src/storage/redis-audit-log.ts';

/**
 * DAILIES_PROMPT_CHECK as an operator sets it on `dailies bot` (the real entry point in a child
 * process, real Redis under a prefix of its own): a bad folder stops start-up with its sentence;
 * a good one is reported on /api/health, refuses a flagged prompt in the web chat and records
 * the refusal in the audit log.
 */

const DAILIES = fileURLToPath(new URL('../../cli/dailies.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/prompt-check-colour', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `dailies-test-${randomBytes(6).toString('hex')}`;
const children: ChildProcess[] = [];
const dirs: string[] = [];

function bot(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [DAILIES, 'bot'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', REDIS_URL, DAILIES_PREFIX: prefix, ARTIFACTS_DIR: join(tmpdir(), `${prefix}-artifacts`), LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, output: () => output, exited };
}

async function waitFor<T>(what: string, probe: () => T | undefined | null, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const found = probe();
    if (found) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  await rm(join(tmpdir(), `${prefix}-artifacts`), { recursive: true, force: true });
  const redis = new Redis(REDIS_URL);
  await deleteKeysStartingWith(redis, prefix);
  await redis.quit();
});

describe('dailies bot with DAILIES_PROMPT_CHECK', () => {
  it('does not start with a bad folder, and says why in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dailies-prompt-check-'));
    dirs.push(dir);
    for (const file of ['model.onnx', 'tokenizer.json']) await copyFile(join(FIXTURE, file), join(dir, file));
    await writeFile(join(dir, 'classifier.json'), JSON.stringify({ labels: ['test-flag', 'other'], maxLength: 64, block: { 'test-flag': 0.8 } }));
    const run = bot({ DAILIES_PROMPT_CHECK: dir });
    expect(await run.exited).toBe(1);
    const lines = run.output().split('\n').filter((l) => l !== '');
    expect(lines).toEqual([`error: The prompt check model in ${dir} returns 1 scores per prompt but classifier.json lists 2 labels; fix classifier.json in ${dir} or re-export the model.`]);
  }, 60_000);

  it('reports the classifier on /api/health, refuses a flagged prompt and records the refusal', async () => {
    const run = bot({ DAILIES_PROMPT_CHECK: FIXTURE });
    const url = await waitFor('the "web chat:" line', () => /web chat: (http:\/\/[^\s"]+)/.exec(run.output())?.[1]);
    const health = (await (await fetch(`${url}/api/health`)).json()) as { promptCheck?: string; frameCheck?: string };
    expect(health.promptCheck).toBe('prompt-check-colour');
    expect(run.output()).toContain(`prompt check: prompt-check-colour (${FIXTURE})`);

    const answer = await fetch(`${url}/api/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'general', user: 'Ana', text: '/video a purple ball bouncing' }) });
    const body = (await answer.json()) as { error?: { code: string; message: string } };
    expect(body.error).toEqual({ code: 'policy_refused', message: 'This prompt was refused by the prompt classifier (test-flag 0.99 ≥ 0.80); rephrase it.' });

    const redis = new Redis(REDIS_URL);
    try {
      const audit = new RedisAuditLog({ redis, prefix });
      // The audit write follows the answer: poll briefly.
      let entries = await audit.list({ since: 0 });
      for (let i = 0; i < 100 && entries.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        entries = await audit.list({ since: 0 });
      }
      expect(entries.map((e) => [e.kind, e.actor?.name, e.code, e.what])).toEqual([['refusal', 'Ana', 'policy_refused', 'This prompt was refused by the prompt classifier (test-flag 0.99 ≥ 0.80); rephrase it.']]);
    } finally {
      await redis.quit();
    }
    run.child.kill('SIGTERM');
    await run.exited;
  }, 90_000);
});
