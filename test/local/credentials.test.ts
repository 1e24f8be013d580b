import { readFile, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { html } from '../../bots/local/credentials-page.ts';
import { credentialsPageUrl } from '../../bots/local/credentials.ts';
import type { CommandEvent, OutgoingAttachment, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { loadSigningIdentity, signMp4, type Credits, type SigningIdentity } from '../../src/provenance/index.ts';
import { makeMp4, sampleCredits, tempDir } from '../provenance/helpers.ts';
import { getJson, postJson, readSse, startTestChat, type TestChat } from './helpers.ts';

/**
 * Content Credentials in the web chat: a real MP4 from ffmpeg, signed by src/provenance, posted
 * by the "core" through the adapter with `signed: true`, then read back through
 * GET /api/credentials/<key> and shown by GET /credentials/<key>.
 */

const MAX_UPLOAD = 2 * 1024 * 1024;

let t: TestChat;
let outside: string;
let cleanupOutside: () => Promise<void>;
let identity: SigningIdentity;
let thread: ThreadRef;
let credits: Credits;
/** URL paths (/artifacts/…) of the posted files. */
let signedUrl: string;
let unsignedUrl: string;

/** A name and a change that would run as markup if the page did not escape them. */
const EVIL = 'Bo <script>alert(1)</script>';

/** Sends the path exactly as written: fetch() would normalise "..". */
function rawGet(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(t.chat.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const apiPath = (url: string) => url.replace(/^\/artifacts\//, '/api/credentials/');
const pagePath = (url: string) => url.replace(/^\/artifacts\//, '/credentials/');

/** What a person reads on the page: tags dropped, entities decoded, spaces collapsed. */
function visibleText(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    // Block ends and cells read as separate words; inline tags (strong, bdi) do not.
    .replace(/<\/?(?:p|li|dt|dd|h1|h2|ul|ol|dl|section|title)\b[^>]*>/g, ' ')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

async function lastMessage() {
  return (await getJson(`${t.chat.url}/api/threads/${thread.threadId}`)).body.messages.at(-1);
}

beforeAll(async () => {
  t = await startTestChat({ maxUploadBytes: MAX_UPLOAD });
  ({ dir: outside, cleanup: cleanupOutside } = await tempDir());
  identity = await loadSigningIdentity(join(outside, 'identity'));
  const ana = { id: 'local-ana', name: 'Ana' };
  const bo = { id: 'local-bo', name: EVIL };
  credits = sampleCredits({
    title: 'a red circle & a "blue" square',
    lineage: [
      { version: 1, prompt: 'a red circle moving to the left', author: ana, change: 'first version', parent: null },
      { version: 2, prompt: 'a red circle & a "blue" square', negativePrompt: 'blurry', author: bo, change: "added 'square'", parent: { version: 1, take: 2 } },
    ],
    contributors: [
      { person: ana, roles: ['prompted', 'voted'] },
      { person: bo, roles: ['revised', 'voted', 'finalized'] },
    ],
  });
  const unsigned = await makeMp4(join(outside, 'plain.mp4'), { faststart: true });
  await signMp4(unsigned, join(outside, 'take-1.mp4'), credits, identity);

  await t.chat.adapter.start(async (event) => {
    if (event.kind !== 'command') return {};
    thread = (await t.chat.adapter.startThread(event as CommandEvent, { text: 'root' })).thread;
    return { thread };
  });
  await postJson(`${t.chat.url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'a red circle' } });
  expect(thread).toBeDefined();
});

afterAll(async () => {
  await t?.cleanup();
  await cleanupOutside?.();
});

describe('the signed flag', () => {
  it('is stored with a posted attachment and shown in the message JSON and the live events', async () => {
    const { key } = await t.store.putFile('renders/s2/take-1.mp4', join(outside, 'take-1.mp4'), 'video/mp4');
    const signed: OutgoingAttachment = { kind: 'final', key, filename: 'take-1.mp4', contentType: 'video/mp4', bytes: 0, signed: true };
    const live = await readSse(`${t.chat.url}/api/threads/${thread.threadId}/events`, (events) => events.some((e) => e.event === 'message.posted'), {
      onReady: async () => {
        await t.chat.adapter.post(thread, { text: 'Final: take 1 of v2', attachments: [signed] });
      },
    });
    const message = await lastMessage();
    expect(message.attachments).toEqual([
      { kind: 'final', url: '/artifacts/renders/s2/take-1.mp4', contentType: 'video/mp4', filename: 'take-1.mp4', bytes: expect.any(Number), signed: true },
    ]);
    signedUrl = message.attachments[0].url;
    expect(live.find((e) => e.event === 'message.posted')!.data.message.attachments).toEqual(message.attachments);

    // Edits keep attachments, and so the flag.
    await t.chat.adapter.edit({ thread, messageId: message.id }, { text: 'Final: take 1 of v2 (3 votes)' });
    expect((await lastMessage()).attachments[0].signed).toBe(true);
  });

  it('is absent when false or not given', async () => {
    const { key } = await t.store.putFile('renders/s2/plain.mp4', join(outside, 'plain.mp4'), 'video/mp4');
    const plain: OutgoingAttachment = { kind: 'final', key, filename: 'plain.mp4', contentType: 'video/mp4', bytes: 0 };
    await t.chat.adapter.post(thread, { text: 'unsigned', attachments: [plain, { ...plain, filename: 'plain-2.mp4', signed: false }] });
    const attachments = (await lastMessage()).attachments;
    expect(attachments).toHaveLength(2);
    for (const a of attachments) expect(a).not.toHaveProperty('signed');
    unsignedUrl = attachments[0].url;
  });
});

describe('GET /api/credentials/<key>', () => {
  it('answers valid with the exact lineage and contributors, and the plain-text report', async () => {
    const res = await getJson(t.chat.url + apiPath(signedUrl));
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['credits', 'generator', 'issuer', 'problems', 'signedAt', 'state', 'text']);
    expect(res.body).toMatchObject({ state: 'valid', problems: [], issuer: 'dailies local CA', generator: 'dailies 0.1.0' });
    expect(res.body.credits).toEqual(credits);
    expect(res.body.credits.lineage.map((e: { author: { name: string } }) => e.author.name)).toEqual(['Ana', EVIL]);
    expect(res.body.credits.contributors).toEqual([
      { person: { id: 'local-ana', name: 'Ana' }, roles: ['prompted', 'voted'] },
      { person: { id: 'local-bo', name: EVIL }, roles: ['revised', 'voted', 'finalized'] },
    ]);
    expect(Date.parse(res.body.signedAt)).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(res.body.text).toContain('Content Credentials: valid');
    expect(res.body.text).toContain(`v2 "a red circle & a "blue" square" (avoiding "blurry") by ${EVIL}, from v1#2 (added 'square')`);
    expect(res.body.text).toContain(`${EVIL}: revised, voted, finalized`);
  });

  it('answers the same when asked again, and trusted by a server that trusts the signing CA', async () => {
    const again = await getJson(t.chat.url + apiPath(signedUrl));
    expect(again.body.state).toBe('valid');
    // A file replaced under the same name is read afresh, not answered from the first reading.
    await writeFile(join(t.artifactsDir, 'replaced.mp4'), await readFile(join(outside, 'take-1.mp4')));
    expect((await getJson(`${t.chat.url}/api/credentials/replaced.mp4`)).body.state).toBe('valid');
    await writeFile(join(t.artifactsDir, 'replaced.mp4'), await readFile(join(outside, 'plain.mp4')));
    expect((await getJson(`${t.chat.url}/api/credentials/replaced.mp4`)).body.state).toBe('absent');
    // Another server on the same storage that trusts the identity's CA.
    const trusting = await t.restart({ trustAnchorsPem: identity.caPem });
    const res = await getJson(trusting.url + apiPath(signedUrl));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'trusted', problems: [] });
    expect(res.body.credits).toEqual(credits);
  });

  it('answers absent for an unsigned MP4', async () => {
    const res = await getJson(t.chat.url + apiPath(unsignedUrl));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ state: 'absent', problems: [], issuer: null, signedAt: null, generator: null, credits: null, text: 'Content Credentials: none: this file carries no Content Credentials' });
  });

  it('answers invalid, with the reason, for a signed file changed afterwards', async () => {
    const bytes = await readFile(join(outside, 'take-1.mp4'));
    const at = bytes.indexOf("added 'square'");
    expect(at).toBeGreaterThan(0);
    bytes.write("added 'circle'", at, 'latin1');
    await writeFile(join(t.artifactsDir, 'tampered.mp4'), bytes);
    const res = await getJson(`${t.chat.url}/api/credentials/tampered.mp4`);
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('invalid');
    expect(res.body.problems.length).toBeGreaterThan(0);
  });

  it('answers 404 for an unknown file, 415 for a file that is not an MP4 and 413 over the upload limit', async () => {
    const unknown = await getJson(`${t.chat.url}/api/credentials/renders/nope.mp4`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: { code: 'not_found', message: 'There is no such file.' } });

    await writeFile(join(t.artifactsDir, 'notes.txt'), 'just text');
    await writeFile(join(t.artifactsDir, 'fake.mp4'), 'not a video at all');
    for (const name of ['notes.txt', 'fake.mp4']) {
      const res = await getJson(`${t.chat.url}/api/credentials/${name}`);
      expect(res.status, name).toBe(415);
      expect(res.body.error.code).toBe('bad_input');
      expect(res.body.error.message).toBe(`${name} is not an MP4 video, the only kind of file whose Content Credentials this server reads.`);
    }

    await writeFile(join(t.artifactsDir, 'huge.mp4'), Buffer.alloc(MAX_UPLOAD + 1));
    const huge = await getJson(`${t.chat.url}/api/credentials/huge.mp4`);
    expect(huge.status).toBe(413);
    expect(huge.body.error).toEqual({ code: 'bad_input', message: 'huge.mp4 is 2.0 MiB, over the 2.0 MiB this server reads Content Credentials from.' });
  });

  it('never reads outside the artifacts directory', async () => {
    await symlink(join(outside, 'take-1.mp4'), join(t.artifactsDir, 'link.mp4'));
    const attempts = [
      '/api/credentials/../package.json',
      '/api/credentials/%2e%2e/%2e%2e/package.json',
      '/api/credentials/%2E%2E%2Fpackage.json',
      '/api/credentials/local-chat/..%2F..%2Fpackage.json',
      '/api/credentials/..%5Cpackage.json',
      '/api/credentials/%2Fetc%2Fpasswd',
      '/api/credentials//etc/passwd',
      `/api/credentials/${encodeURIComponent(join(outside, 'take-1.mp4'))}`,
      '/api/credentials/link.mp4',
      '/api/credentials/local-chat',
      '/api/credentials/.hidden.mp4',
      '/api/credentials/%E0%A4%A',
      '/api/credentials/',
      '/credentials/../package.json',
      '/credentials/%2e%2e/%2e%2e/package.json',
      '/credentials/link.mp4',
      '/credentials/',
    ];
    for (const path of attempts) {
      const res = await rawGet(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('dailies local CA');
      expect(res.body, path).not.toContain('"name": "dailies"');
    }
  });
});

describe('GET /credentials/<key>', () => {
  it('shows the verdict, title, software, model, lineage and contributors, every value escaped', async () => {
    const res = await rawGet(pagePath(signedUrl));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');

    // The name is shown as text, never as markup.
    expect(res.body).not.toMatch(/<script/i);
    expect(res.body).toContain('Bo &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.body).toContain('a red circle &amp; a &quot;blue&quot; square');

    const text = visibleText(res.body);
    expect(text).toContain('Valid. This video is unchanged since it was signed.');
    expect(text).toContain('a red circle & a "blue" square');
    expect(text).toContain('Software dailies 0.1.0');
    expect(text).toContain('Model shapes-v2');
    expect(text).toContain('This video v2, take 1');
    expect(text).toContain('Signed by dailies local CA');
    expect(text).toContain('Lineage v1 "a red circle moving to the left" by Ana (first version) v2');
    expect(text).toContain(`v2 "a red circle & a "blue" square" (avoiding "blurry") by ${EVIL}, from v1#2 (added 'square')`);
    expect(text).toContain(`Contributors Ana: prompted, voted ${EVIL}: revised, voted, finalized`);
    expect(res.body).toContain(`<a href="${signedUrl}">Open the video (take-1.mp4)</a>`);
    expect(res.body).toContain(`<video src="${signedUrl}"`);
    // What Discord and Slack posts will link to, from the artifact key.
    expect(credentialsPageUrl(decodeURIComponent(signedUrl.replace(/^\/artifacts\//, '')))).toBe(pagePath(signedUrl));
    expect(credentialsPageUrl('renders/s1/take 1.mp4')).toBe('/credentials/renders/s1/take%201.mp4');
  });

  it('says when a file has no credentials, and why credentials are invalid', async () => {
    const absent = await rawGet(pagePath(unsignedUrl));
    expect(absent.status).toBe(200);
    expect(visibleText(absent.body)).toContain('No Content Credentials. This file carries no Content Credentials.');
    expect(visibleText(absent.body)).not.toContain('Lineage');

    const invalid = visibleText((await rawGet('/credentials/tampered.mp4')).body);
    expect(invalid).toContain('Invalid. This video carries Content Credentials that do not hold up:');
    expect(invalid).toMatch(/changed after it was signed/);
    expect(invalid).toContain('What the file claims (not verified):');
  });

  it('shows control and bidi-override characters as escapes, as dailies verify does', () => {
    expect(html('Bo\u202Egnp.exe <b>"&\'\u001b[31m')).toBe('Bo\\u{202e}gnp.exe &lt;b&gt;&quot;&amp;&#39;\\u{1b}[31m');
  });

  it('answers unknown files and non-MP4s with a page saying so', async () => {
    const missing = await rawGet('/credentials/renders/nope.mp4');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^text\/html/);
    expect(visibleText(missing.body)).toContain('There is no such file.');
    const text = await rawGet('/credentials/notes.txt');
    expect(text.status).toBe(415);
    expect(visibleText(text.body)).toContain('notes.txt is not an MP4 video');
  });
});
