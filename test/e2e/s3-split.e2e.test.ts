import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startS3Server, type TestS3 } from '../storage/s3-server.ts';
import { deleteKeys, getJson, postJson, REDIS_URL, waitFor } from './stack.ts';

/**
 * Issue 15: the bot and a worker as two processes in two working folders that share no disk,
 * with artifacts in an S3 bucket (an S3 API server started here, reached by the AWS SDK client
 * exactly as MinIO or S3 would be). A render completes, its final is signed by the worker, and
 * the web chat serves it from the bucket, whole and by byte range; neither folder holds a video.
 */

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const RENDER_MS = 180_000;

interface Proc {
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

function run(command: 'bot' | 'worker', cwd: string, env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [join(ROOT, 'cli/dailies.js'), command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    child,
    log: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

let s3: TestS3;
let botDir: string;
let workerDir: string;
let bot: Proc;
let worker: Proc;
let url: string;
const prefix = `e2e-s3-${randomBytes(5).toString('hex')}`;

beforeAll(async () => {
  s3 = await startS3Server();
  botDir = await mkdtemp(join(tmpdir(), 'dailies-bot-folder-'));
  workerDir = await mkdtemp(join(tmpdir(), 'dailies-worker-folder-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ...s3.env(prefix), PORT: '0', HOST: '127.0.0.1', DAILIES_PREFIX: prefix, REDIS_URL };
  // ARTIFACTS_DIR and DAILIES_SIGNING_DIR keep their relative defaults: each process's own folder.
  for (const name of ['DISCORD_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'MODEL_DIR', 'ARTIFACTS_DIR', 'DAILIES_SIGNING_DIR', 'NODE_OPTIONS', 'TEST']) delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('VITEST')) delete env[name];
  bot = run('bot', botDir, env);
  worker = run('worker', workerDir, env);
  url = await waitFor('the bot\'s "web chat:" line', () => /web chat: (http:\/\/[^\s"]+)/.exec(bot.log())?.[1], RENDER_MS).catch((error: Error) => {
    throw new Error(`${error.message}\n--- bot ---\n${bot.log()}`);
  });
  await waitFor('the worker to load its model', () => /ready: model/.test(worker.log()), RENDER_MS).catch((error: Error) => {
    throw new Error(`${error.message}\n--- worker ---\n${worker.log()}`);
  });
}, RENDER_MS * 2);

afterAll(async () => {
  await worker?.stop();
  await bot?.stop();
  await deleteKeys(prefix);
  await s3?.close();
  for (const dir of [botDir, workerDir]) if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

interface Message {
  text: string;
  buttons?: { action: string; label: string }[][];
  attachments: { kind: string; url: string; contentType: string; bytes: number; signed?: boolean }[];
}

async function filesUnder(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir, { recursive: true })).map(String) : [];
}

it('renders, signs and serves a final from the bucket with the bot and the worker in different folders', { timeout: RENDER_MS * 3 }, async () => {
  const api = (p: string) => `${url}${p}`;
  const messages = async (thread: string) => (await getJson(api(`/api/threads/${thread}`))).body.messages as Message[];
  const said = (thread: string, what: string, test: (m: Message) => boolean) =>
    waitFor(what, async () => (await messages(thread)).find(test), RENDER_MS, 250).catch((error: Error) => {
      throw new Error(`${error.message}\n--- bot ---\n${bot.log()}\n--- worker ---\n${worker.log()}`);
    });

  const start = await postJson(api('/api/commands'), { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'a red circle moving left', takes: 1, steps: 3 } });
  expect(start.status).toBe(200);
  const thread = start.body.thread as string;
  const take = await said(thread, 'take 1 of v1', (m) => m.text.startsWith('Take 1 of v1'));
  const finalize = take.buttons!.flat().find((b) => b.label === 'Finalize')!;
  expect((await postJson(api(`/api/threads/${thread}/actions`), { user: 'Ana', key: finalize.action })).status).toBe(200);
  const final = await said(thread, 'the final', (m) => m.text.startsWith('Final · take 1 of v1') && m.attachments.length > 0);
  const [video] = final.attachments;
  expect(video).toMatchObject({ kind: 'final', contentType: 'video/mp4', signed: true });

  // Served by the web chat from the bucket: the same bytes as the object the worker uploaded.
  const key = decodeURIComponent(video!.url.replace(/^\/artifacts\//, ''));
  const { store, cleanup } = await s3.store(prefix);
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.open(key)) chunks.push(Buffer.from(chunk));
    const stored = Buffer.concat(chunks);
    expect(stored.length).toBe(video!.bytes);
    const whole = await fetch(api(video!.url));
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await whole.arrayBuffer()).equals(stored)).toBe(true);
    const part = await fetch(api(video!.url), { headers: { Range: 'bytes=100-299' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-299/${stored.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(stored.subarray(100, 300))).toBe(true);
  } finally {
    await cleanup();
  }

  // Its Content Credentials, read by the bot from the bucket (the worker's CA is not the bot's,
  // so they read as valid rather than trusted).
  const credentials = await getJson(api(`/api/credentials/${key}`));
  expect(credentials.status).toBe(200);
  expect(credentials.body.state).toBe('valid');

  // Nothing rendered went through either working folder.
  for (const dir of [botDir, workerDir]) expect((await filesUnder(join(dir, '.artifacts'))).filter((f) => /\.(mp4|webp|gif|png)$/.test(f))).toEqual([]);
});
