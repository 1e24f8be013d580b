import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageIntake } from '../../src/core/image-intake.ts';
import { localUser } from '../../bots/local/local-users.ts';
import { LocalUploads, MAX_UPLOADS_PER_PERSON, UPLOAD_TTL_MS } from '../../bots/local/uploads.ts';
import { startCoreRig, type CoreRig } from './core-rig.ts';
import { getJson, postJson, quietLogger, startTestChat, type TestChat } from './helpers.ts';
import { gpsLatitudeBytes, jpegMarkers, testImage, withExifGps, withPngMetadata } from './image-fixtures.ts';

/**
 * POST /api/uploads over real HTTP with the real ffmpeg, the filesystem artifact store and Redis,
 * and the upload's key used as the image of /video and of a thread reply, through the real core
 * and its image intake (which fetches the upload back from the chat's own address).
 */

const MAX = 10 * 1024 * 1024;
let t: TestChat;
let rig: CoreRig;
let dir: string;
let png: Buffer;
let photo: Buffer;

function upload(body: Buffer | string, type: string | null, user: string | null = 'Ana', headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Record<string, string | string[] | undefined> }> {
  const { hostname, port } = new URL(t.chat.url);
  const path = `/api/uploads${user === null ? '' : `?user=${encodeURIComponent(user)}`}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, method: 'POST', path, headers: { ...(type ? { 'content-type': type } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: res.headers }));
    });
    // The server may answer and close before it has read everything (413): that is its right.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    req.end(body);
  });
}

/** Every file under uploads/ in the store, and the ledger's size: what a refusal must leave unchanged. */
async function stored(): Promise<{ files: string[]; ledger: number }> {
  const files = await readdir(join(t.artifactsDir, 'uploads'), { recursive: true, withFileTypes: true }).catch(() => []);
  return { files: files.filter((f) => f.isFile()).map((f) => f.name).sort(), ledger: await t.redis.zcard(`${t.prefix}uploads`) };
}

async function animatedWebp(): Promise<Buffer> {
  const path = join(dir, 'animated.webp');
  await promisify(execFile)('/usr/bin/ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x32:rate=5:duration=1', '-c:v', 'libwebp_anim', '-loop', '0', path]);
  return readFile(path);
}

function oneSentence(message: unknown) {
  expect(typeof message).toBe('string');
  expect(message as string).toMatch(/^[^\n]{10,240}\.$/);
  expect((message as string).slice(0, -1)).not.toMatch(/[.!?]\s+[A-Z]/);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dailies-uploads-'));
  t = await startTestChat();
  rig = await startCoreRig(t.chat.adapter, dir, {}, t.store, { images: createImageIntake({ artifacts: t.store }) });
  png = await testImage(dir, 'still.png', '64x32');
  photo = withExifGps(await testImage(dir, 'photo.jpg', '64x32'), 6);
});

afterAll(async () => {
  await rig?.close();
  await t?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('POST /api/uploads', () => {
  it('refuses what is not a PNG, JPEG or WebP with one sentence each, and stores nothing', async () => {
    const before = await stored();
    expect(before).toEqual({ files: [], ledger: 0 });

    const oversized = await upload(Buffer.alloc(MAX + 1, 0x89), 'image/png');
    expect(oversized.status).toBe(413);
    expect(oversized.body.error).toEqual({ code: 'bad_input', message: 'The image is over the 10 MB limit; upload a smaller one.' });
    expect(oversized.headers.connection).toBe('close');
    // Without a declared length the limit holds while reading.
    const chunked = await upload(Buffer.concat([png, Buffer.alloc(MAX)]), 'image/png', 'Ana', { 'transfer-encoding': 'chunked' });
    expect(chunked.status).toBe(413);

    const text = Buffer.from('hello, this is not a picture at all '.repeat(20));
    const notImage = await upload(text, 'image/png');
    expect(notImage.status).toBe(400);
    expect(notImage.body.error.message).toBe('The uploaded file is not a PNG, JPEG or WebP image (its bytes are not one); choose an image file.');

    const damaged = await upload(Buffer.concat([png.subarray(0, 8), Buffer.alloc(400, 7)]), 'image/png');
    expect(damaged.status).toBe(400);
    expect(damaged.body.error.message).toBe('The uploaded file starts like a PNG image but cannot be read as one; export it again and upload the new file.');

    const wrongType = await upload(png, 'text/plain');
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.message).toBe('Upload a PNG, JPEG or WebP image as the request body with Content-Type image/png, image/jpeg or image/webp, not text/plain.');
    expect((await upload(png, 'image/gif')).status).toBe(415);
    expect((await upload(png, null)).status).toBe(415);

    const huge = await testImage(dir, 'huge.png', '4097x4097', 'flat');
    const tooManyPixels = await upload(huge, 'image/png');
    expect(tooManyPixels.status).toBe(400);
    expect(tooManyPixels.body.error.message).toBe('The image is 4097x4097 pixels, more than the 4096x4096 this server accepts; scale it down and upload it again.');

    const animated = await upload(await animatedWebp(), 'image/webp');
    expect(animated.status).toBe(400);
    expect(animated.body.error.message).toBe('The uploaded file is an animated WebP, which this server cannot read; upload a PNG, JPEG or still WebP.');

    const nobody = await upload(png, 'image/png', null);
    expect(nobody.status).toBe(400);
    expect((await upload(Buffer.alloc(0), 'image/png')).status).toBe(400);

    for (const res of [oversized, chunked, notImage, damaged, wrongType, tooManyPixels, animated, nobody]) oneSentence(res.body.error.message);
    expect(await stored()).toEqual(before);
  });

  it('keeps a PNG under the uploader’s id without its text and EXIF chunks, and serves it back', async () => {
    const tagged = withPngMetadata(png, 'home: 52.52 N 13.41 E');
    expect(tagged.includes(gpsLatitudeBytes())).toBe(true);
    const res = await upload(tagged, 'image/png; charset=binary');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ key: expect.stringMatching(new RegExp(`^uploads/${localUser('Ana').id}/[0-9a-f]{32}\\.png$`)), bytes: expect.any(Number), contentType: 'image/png', width: 64, height: 32 });
    const served = await fetch(`${t.chat.url}/artifacts/${res.body.key}`);
    expect(served.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await served.arrayBuffer());
    expect(bytes.length).toBe(res.body.bytes);
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    for (const gone of [Buffer.from('tEXt'), Buffer.from('eXIf'), Buffer.from('home: 52.52'), gpsLatitudeBytes()]) expect(bytes.includes(gone)).toBe(false);
  });

  it('removes a JPEG’s EXIF block, GPS position included, and turns the picture upright first', async () => {
    // The fixture really carries them, so the check below can fail.
    expect(jpegMarkers(photo)).toContain(0xffe1);
    expect(photo.includes(gpsLatitudeBytes())).toBe(true);

    const res = await upload(photo, 'image/jpeg');
    expect(res.status).toBe(201);
    // Orientation 6 is a quarter turn: the 64x32 frame is 32x64 upright.
    expect(res.body).toMatchObject({ contentType: 'image/jpeg', width: 32, height: 64 });
    const kept = await readFile(join(t.artifactsDir, res.body.key));
    expect(jpegMarkers(kept)).not.toContain(0xffe1);
    expect(kept.includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(false);
    expect(kept.includes(gpsLatitudeBytes())).toBe(false);
    expect(kept.includes(Buffer.from('Lavc', 'latin1'))).toBe(false);
  });

  it('takes the type from the bytes, not from the header', async () => {
    const res = await upload(photo, 'image/png');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ contentType: 'image/jpeg', key: expect.stringMatching(/\.jpg$/) });
  });

  it('keeps a still WebP, and a JPEG whose header ffmpeg would not guess (a 1:2 pixel aspect)', async () => {
    const webp = await upload(await testImage(dir, 'still.webp', '48x48'), 'image/webp');
    expect(webp.status).toBe(201);
    expect(webp.body).toMatchObject({ contentType: 'image/webp', width: 48, height: 48, key: expect.stringMatching(/\.webp$/) });
    // Scaled from 64x32 to 64x64, ffmpeg writes a JFIF density that its own probe scores low.
    const square = await upload(await testImage(dir, 'square.jpg', '64x64'), 'image/jpeg');
    expect(square.status).toBe(201);
    expect(square.body).toMatchObject({ contentType: 'image/jpeg', width: 64, height: 64 });
  });
});

describe('an upload as the image of /video and of a reply', () => {
  const command = (body: Record<string, unknown>) => postJson(`${t.chat.url}/api/commands`, { user: 'Ana', ...body });
  const uploaded = async (bytes: Buffer, type: string, user = 'Ana') => (await upload(bytes, type, user)).body.key as string;
  const inputBytes = (key: string) => readFile(join(t.artifactsDir, key));

  it('animates the uploaded still, and a reply’s image replaces it from its version on', async () => {
    const first = await uploaded(png, 'image/png');
    const started = await command({ channel: 'general', text: '/video a red circle', image: first });
    expect(started.status).toBe(200);
    const thread = started.body.thread as string;
    await rig.settle();
    const v1 = rig.queue.jobs.at(-1)!.request;
    // The core's intake fetched the upload from the chat and keeps its own copy for the worker.
    expect(v1.image).toMatchObject({ strength: 0.7, artifact: { key: expect.stringMatching(/^inputs\//), contentType: 'image/png' } });
    expect(await inputBytes(v1.image!.artifact.key)).toEqual(await inputBytes(first));

    const second = await uploaded(photo, 'image/jpeg');
    const reply = await postJson(`${t.chat.url}/api/threads/${thread}/messages`, { user: 'Ana', text: 'on a blue background', image: second });
    expect(reply.status).toBe(200);
    await rig.settle();
    const v2 = rig.queue.jobs.at(-1)!.request;
    expect(v2.prompt).toContain('blue background');
    expect(v2.image!.artifact.key).not.toBe(v1.image!.artifact.key);
    expect(await inputBytes(v2.image!.artifact.key)).toEqual(await inputBytes(second));

    // The still stays with the session: a plain reply renders from the reply's image.
    await postJson(`${t.chat.url}/api/threads/${thread}/messages`, { user: 'Ana', text: 'moving up' });
    await rig.settle();
    expect(rig.queue.jobs.at(-1)!.request.image).toEqual(v2.image);

    // /video typed in the thread with an image, by name this time.
    const third = await uploaded(png, 'image/png');
    const inThread = await command({ thread, name: 'video', options: { prompt: 'a green square', image: third, strength: 0.4 } });
    expect(inThread.status).toBe(200);
    await rig.settle();
    expect(rig.queue.jobs.at(-1)!.request.image).toMatchObject({ strength: 0.4, artifact: { key: expect.stringMatching(/^inputs\//) } });
  });

  it('refuses a key that is someone else’s, unknown or not an upload, before anything reaches the core or the thread', async () => {
    const bens = await uploaded(png, 'image/png', 'Ben');
    const started = await command({ channel: 'general', text: '/video a blue square' });
    const thread = started.body.thread as string;
    await rig.settle();
    const events = rig.events.length;
    const jobs = rig.queue.jobs.length;
    const shown = (await getJson(`${t.chat.url}/api/threads/${thread}`)).body.messages.length;

    const foreign = await command({ channel: 'general', text: '/video a red circle', image: bens });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.message).toBe('You have no uploaded image with that key (an upload lasts 24 hours and only its uploader can use it); attach the image again.');
    const unknown = await postJson(`${t.chat.url}/api/threads/${thread}/messages`, { user: 'Ana', text: 'moving up', image: bens.replace(localUser('Ben').id, localUser('Ana').id) });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe(foreign.body.error.message);
    const render = await command({ channel: 'general', name: 'video', options: { prompt: 'a red circle', image: 'renders/s1/take-1.mp4' } });
    expect(render.status).toBe(400);
    expect(render.body.error.message).toBe('image must be the key POST /api/uploads answered with (uploads/local-…/….png).');
    const traversal = await postJson(`${t.chat.url}/api/threads/${thread}/messages`, { user: 'Ana', text: 'moving up', image: `uploads/${localUser('Ana').id}/../../x.png` });
    expect(traversal.status).toBe(400);
    const mine = await uploaded(png, 'image/png');
    const storyboard = await command({ channel: 'general', text: '/storyboard a | b', image: mine });
    expect(storyboard.status).toBe(400);
    expect(storyboard.body.error.message).toBe('/storyboard does not take an image; send it with /video.');
    const twice = await command({ channel: 'general', name: 'video', options: { prompt: 'x', image: mine }, image: mine });
    expect(twice.status).toBe(400);

    for (const res of [foreign, unknown, render, traversal, storyboard, twice]) oneSentence(res.body.error.message);
    expect(rig.events.length).toBe(events);
    expect(rig.queue.jobs.length).toBe(jobs);
    expect((await getJson(`${t.chat.url}/api/threads/${thread}`)).body.messages.length).toBe(shown);
  });
});

describe('an upload in a storyboard thread', () => {
  it('is refused with one sentence, since the shots are different pictures', async () => {
    const board = await postJson(`${t.chat.url}/api/commands`, { channel: 'general', user: 'Ana', text: '/storyboard a red circle | a blue square' });
    await rig.settle();
    const jobs = rig.queue.jobs.length;
    const key = (await upload(png, 'image/png')).body.key as string;
    const reply = await postJson(`${t.chat.url}/api/threads/${board.body.thread}/messages`, { user: 'Ana', text: 'shot 1: moving up', image: key });
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toBe('A storyboard does not take an image; start a video with /video and the image instead.');
    await rig.settle();
    expect(rig.queue.jobs.length).toBe(jobs);
  });
});

describe('upload expiry', () => {
  it('keeps a capped number of live uploads a person, refusing the next with one sentence and storing nothing', async () => {
    let now = Date.UTC(2031, 0, 1);
    const cap = 3;
    expect(MAX_UPLOADS_PER_PERSON).toBe(40);
    const uploads = new LocalUploads({ redis: t.redis, prefix: `${t.prefix}cap:`, store: t.store, logger: quietLogger, now: () => now, maxPerPerson: cap });
    const ana = localUser('Ana-cap');
    for (let i = 0; i < cap; i++) {
      now += 1_000;
      const saved = await uploads.save(ana, png);
      if ('status' in saved) throw new Error(saved.message);
    }
    const ledger = await t.redis.zcard(`${t.prefix}cap:uploads`);
    const refused = await uploads.save(ana, png);
    expect(refused).toEqual({ status: 429, message: `You have ${cap} images uploaded in the last 24 hours, the most one person may keep; use one of them or try again later.` });
    oneSentence((refused as { message: string }).message);
    expect(await t.redis.zcard(`${t.prefix}cap:uploads`)).toBe(ledger);
    // Someone else is not held up by it, and Ana can upload again once her first one expires.
    expect('key' in (await uploads.save(localUser('Ben-cap'), png))).toBe(true);
    now += UPLOAD_TTL_MS - (cap - 1) * 1_000;
    expect('key' in (await uploads.save(ana, png))).toBe(true);
    expect('status' in (await uploads.save(ana, png))).toBe(true);
  });

  it('holds the cap when a person’s uploads arrive at once, and a refused image takes no place', async () => {
    const now = Date.UTC(2032, 0, 1);
    const cap = 3;
    const uploads = new LocalUploads({ redis: t.redis, prefix: `${t.prefix}burst:`, store: t.store, logger: quietLogger, now: () => now, maxPerPerson: cap });
    const ana = localUser('Ana-burst');
    // Not an image: refused by the cleaner, after a place was held; the place is given back.
    expect(await uploads.save(ana, Buffer.from('not an image at all'))).toMatchObject({ status: 400 });
    // Six at once: the count and the hold are one step, so exactly the cap gets through.
    const results = await Promise.all(Array.from({ length: 2 * cap }, () => uploads.save(ana, png)));
    expect(results.filter((r) => 'key' in r)).toHaveLength(cap);
    expect(results.filter((r) => 'status' in r && r.status === 429)).toHaveLength(cap);
    expect(await t.redis.zcard(`${t.prefix}burst:uploads`)).toBe(cap);
    expect(await t.redis.zrange(`${t.prefix}burst:uploads:by:${ana.id}`, 0, -1)).toEqual(
      expect.arrayContaining(results.flatMap((r) => ('key' in r ? [r.key] : []))),
    );
    expect(await t.redis.zcard(`${t.prefix}burst:uploads:by:${ana.id}`)).toBe(cap);
  });

  it('refuses a blocked person’s upload with the block’s sentence (403 forbidden), storing nothing', async () => {
    const until = Date.now() + 3_600_000;
    t.chat.setHooks({ personBlock: async (id) => (id === localUser('Mallory').id ? { person: { id, name: 'Mallory' }, until, by: { id: 'local-mod', name: 'Mod' }, at: Date.now(), reason: 'spam' } : null) });
    try {
      const before = await stored();
      const refused = await upload(png, 'image/png', 'Mallory');
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('forbidden');
      expect(refused.body.error.message).toMatch(/^You are blocked from dailies until .* by a moderator: spam\.$/);
      expect(await stored()).toEqual(before);
      expect((await upload(png, 'image/png', 'Ben')).status).toBe(201);
    } finally {
      t.chat.setHooks({ personBlock: async () => null });
    }
  });

  it('refuses an upload a day old and deletes it when the next one arrives', async () => {
    let now = Date.UTC(2030, 0, 1);
    const uploads = new LocalUploads({ redis: t.redis, prefix: `${t.prefix}expiry:`, store: t.store, logger: quietLogger, now: () => now });
    uploads.serveFrom(t.chat.url);
    const ana = localUser('Ana');
    const old = await uploads.save(ana, png);
    if ('status' in old) throw new Error(old.message);
    expect(await uploads.attachment(ana, old.key)).toMatchObject({ url: `${t.chat.url}/artifacts/${old.key}`, contentType: 'image/png' });

    now += UPLOAD_TTL_MS;
    await expect(uploads.attachment(ana, old.key)).rejects.toThrow('You have no uploaded image with that key');
    const fresh = await uploads.save(ana, png);
    if ('status' in fresh) throw new Error(fresh.message);
    await expect.poll(() => t.store.stat(old.key)).toBeNull();
    expect(await t.redis.zrange(`${t.prefix}expiry:uploads`, 0, -1)).toEqual([fresh.key]);
  });
});
