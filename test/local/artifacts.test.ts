import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandEvent, OutgoingAttachment, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { artifactUrl } from '../../bots/local/artifact-files.ts';
import { getJson, postJson, startTestChat, type TestChat } from './helpers.ts';

/** /artifacts/<key>: only artifacts in the store (here the filesystem store's folder), with Range support. */

let t: TestChat;
let outside: string;
let thread: ThreadRef;
const video = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));

/** Sends the path exactly as written: fetch() would normalise "..". */
function rawGet(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(t.chat.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  t = await startTestChat({ maxUploadBytes: 1024 * 1024 });
  outside = await mkdtemp(join(tmpdir(), 'dailies-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'top secret');
  await mkdir(join(t.artifactsDir, 'renders', 's1'), { recursive: true });
  await writeFile(join(t.artifactsDir, 'renders', 's1', 'take-1.mp4'), video);
  await writeFile(join(t.artifactsDir, 'renders', 's1', 'preview.webp'), Buffer.from('RIFF....WEBP'));
  await writeFile(join(t.artifactsDir, 'renders', 's1', 'page.html'), '<script>alert(1)</script>');
  await writeFile(join(t.artifactsDir, '.hidden'), 'hidden');
  await symlink(join(outside, 'secret.txt'), join(t.artifactsDir, 'renders', 'link.txt'));
  await t.chat.adapter.start(async (event) => {
    if (event.kind !== 'command') return {};
    thread = (await t.chat.adapter.startThread(event as CommandEvent, { text: 'root' })).thread;
    return { thread };
  });
  await postJson(`${t.chat.url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'p' } });
});

afterAll(async () => {
  await t.cleanup();
  await rm(outside, { recursive: true, force: true });
});

describe('posts with a key (the core\'s post key)', () => {
  it('are one message however often they are repeated, showing the latest text', async () => {
    const before = (await getJson(`${t.chat.url}/api/threads/${thread.threadId}`)).body.messages.length;
    // A bot that posted, died before recording it, and posts the same item again after restart.
    const first = await t.chat.adapter.post(thread, { text: 'Queued: 1st in line.' }, { key: 'j1:progress:0' });
    const again = await t.chat.adapter.post(thread, { text: 'Done.' }, { key: 'j1:progress:0' });
    expect(again).toEqual(first);
    const messages = (await getJson(`${t.chat.url}/api/threads/${thread.threadId}`)).body.messages;
    expect(messages).toHaveLength(before + 1);
    expect(messages.at(-1).text).toBe('Done.');
    // Another key, or no key, is another message.
    await t.chat.adapter.post(thread, { text: 'Done.' }, { key: 'j2:progress:0' });
    await t.chat.adapter.post(thread, { text: 'Done.' });
    expect((await getJson(`${t.chat.url}/api/threads/${thread.threadId}`)).body.messages).toHaveLength(before + 3);
  });
});

describe('attachments posted by the core', () => {
  it('are served by their key in the artifact store, like ArtifactStore.publicUrl', async () => {
    const attachment: OutgoingAttachment = { kind: 'final', key: 'renders/s1/take-1.mp4', filename: 'take 1.mp4', contentType: 'video/mp4', bytes: video.length };
    await t.chat.adapter.post(thread, { text: 'final', attachments: [attachment] });
    const messages = (await getJson(`${t.chat.url}/api/threads/${thread.threadId}`)).body.messages;
    expect(messages.at(-1).attachments).toEqual([{ kind: 'final', url: '/artifacts/renders/s1/take-1.mp4', contentType: 'video/mp4', filename: 'take 1.mp4', bytes: video.length }]);
    expect(t.store.publicUrl({ key: 'renders/s1/take-1.mp4', bytes: 1, contentType: 'video/mp4' })).toBe('/artifacts/renders/s1/take-1.mp4');
    expect(artifactUrl('renders/s1/take 1.mp4')).toBe('/artifacts/renders/s1/take%201.mp4');
  });

  it('refuses keys with nothing stored, and oversized files', async () => {
    const missing: OutgoingAttachment = { kind: 'final', key: 'renders/s1/nope.mp4', filename: 'nope.mp4', contentType: 'video/mp4', bytes: 1 };
    await expect(t.chat.adapter.post(thread, { text: 'x', attachments: [missing] })).rejects.toMatchObject({ code: 'not_found' });
    const big = await t.store.putBuffer('renders/s1/big.mp4', Buffer.alloc(1024 * 1024 + 1), 'video/mp4');
    await expect(t.chat.adapter.post(thread, { text: 'x', attachments: [{ ...missing, key: big.key }] })).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/upload limit/) });
  });
});

describe('GET /artifacts', () => {
  it('serves the whole file with its type and range support', async () => {
    const res = await rawGet('/artifacts/renders/s1/take-1.mp4');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('video/mp4');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['content-length']).toBe(String(video.length));
    expect(res.body.equals(video)).toBe(true);
    expect((await rawGet('/artifacts/renders/s1/preview.webp')).headers['content-type']).toBe('image/webp');
  });

  it('answers byte ranges with 206 as media players need', async () => {
    const open = await rawGet('/artifacts/renders/s1/take-1.mp4', { Range: 'bytes=0-' });
    expect(open.status).toBe(206);
    expect(open.headers['content-range']).toBe(`bytes 0-${video.length - 1}/${video.length}`);
    const middle = await rawGet('/artifacts/renders/s1/take-1.mp4', { Range: 'bytes=100-199' });
    expect(middle.status).toBe(206);
    expect(middle.headers['content-range']).toBe(`bytes 100-199/${video.length}`);
    expect(middle.body.equals(video.subarray(100, 200))).toBe(true);
    const tail = await rawGet('/artifacts/renders/s1/take-1.mp4', { Range: 'bytes=4990-9999' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(video.subarray(4990))).toBe(true);
    const suffix = await rawGet('/artifacts/renders/s1/take-1.mp4', { Range: 'bytes=-100' });
    expect(suffix.status).toBe(206);
    expect(suffix.headers['content-range']).toBe(`bytes 4900-4999/${video.length}`);
    expect(suffix.body.equals(video.subarray(4900))).toBe(true);
    const clamped = await rawGet('/artifacts/renders/s1/take-1.mp4', { Range: 'bytes=4995-5005' });
    expect(clamped.headers['content-range']).toBe(`bytes 4995-4999/${video.length}`);
    expect(clamped.body.equals(video.subarray(4995))).toBe(true);
    for (const range of ['bytes=5000-', 'bytes=9000-9100', 'bytes=-0']) {
      const res = await rawGet('/artifacts/renders/s1/take-1.mp4', { Range: range });
      expect(res.status, range).toBe(416);
      expect(res.headers['content-range']).toBe(`bytes */${video.length}`);
    }
    // Ranges it cannot honour are ignored, as RFC 9110 allows: the whole file.
    for (const range of ['bytes=5-1', 'items=0-1', 'bytes=0-1,5-6', 'garbage']) {
      const res = await rawGet('/artifacts/renders/s1/take-1.mp4', { Range: range });
      expect(res.status, range).toBe(200);
      expect(res.body.equals(video)).toBe(true);
    }
    const head = await rawGet('/artifacts/renders/s1/take-1.mp4', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(video.length));
  });

  it('sends non-media files as downloads in a sandbox', async () => {
    const res = await rawGet('/artifacts/renders/s1/page.html');
    expect(res.headers['content-disposition']).toBe('attachment');
    expect(res.headers['content-security-policy']).toContain('sandbox');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses traversal, hidden files, directories and symlinks out', async () => {
    const attempts = [
      '/artifacts/../package.json',
      '/artifacts/../../etc/passwd',
      '/artifacts/%2e%2e/package.json',
      '/artifacts/%2E%2E%2Fpackage.json',
      '/artifacts/renders/..%2F..%2Fpackage.json',
      '/artifacts/renders/%2e%2e/%2e%2e/package.json',
      '/artifacts/renders%5C..%5C..%5Cpackage.json',
      '/artifacts/..%5Cpackage.json',
      '/artifacts/%2Fetc%2Fpasswd',
      '/artifacts//etc/passwd',
      '/artifacts/renders/s1/take-1.mp4%00.txt',
      '/artifacts/.hidden',
      '/artifacts/renders/s1',
      '/artifacts/renders/s1/',
      '/artifacts/renders/link.txt',
      '/artifacts/%E0%A4%A',
      `/artifacts/${'a/'.repeat(600)}x`,
      '/artifacts/',
    ];
    for (const path of attempts) {
      const res = await rawGet(path);
      expect(res.status, path).toBe(404);
      expect(res.body.toString()).not.toContain('top secret');
      expect(res.body.toString()).not.toContain('"dailies"');
    }
  });
});
