import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { ArtifactStore } from '../../src/core/ports/artifact-store.ts';
import { artifactStoreFromConfig, parseArtifactsUrl } from '../../src/storage/artifact-store-from-config.ts';
import { refusal } from '../conformance/refusal.ts';
import { startTestChat, type TestChat } from '../local/helpers.ts';
import { startS3Server, type TestS3 } from './s3-server.ts';

/**
 * What the S3 store does beyond the shared contract (test/conformance/artifact-store.test.ts):
 * multipart uploads, a local copy that follows a key put again, one sentence for a store that
 * does not answer, the settings, and the web chat serving a bucket with Range support.
 */

let s3: TestS3;
let store: ArtifactStore;
let cleanupStore: () => Promise<void>;
let scratch: string;

beforeAll(async () => {
  s3 = await startS3Server();
  ({ store, cleanup: cleanupStore } = await s3.store());
  scratch = await mkdtemp(join(tmpdir(), 'dailies-s3-test-'));
});
afterAll(async () => {
  await cleanupStore?.();
  await s3?.close();
  await rm(scratch, { recursive: true, force: true });
});

async function drain(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

describe('S3ArtifactStore', () => {
  it('uploads a file larger than a part as a multipart upload, whole', async () => {
    const data = randomBytes(12 * 1024 * 1024 + 123);
    const source = join(scratch, 'big.mp4');
    await writeFile(source, data);
    const ref = await store.putFile('renders/big/take-0.mp4', source, 'video/mp4');
    expect(ref).toEqual({ key: 'renders/big/take-0.mp4', bytes: data.length, contentType: 'video/mp4' });
    expect((await drain(await store.open(ref.key))).equals(data)).toBe(true);
    expect((await drain(await store.open(ref.key, { range: { start: 8 * 1024 * 1024 - 5, end: 8 * 1024 * 1024 + 4 } }))).equals(data.subarray(8 * 1024 * 1024 - 5, 8 * 1024 * 1024 + 5))).toBe(true);
  });

  it('gives a fresh local copy after the key is put again', async () => {
    const first = await store.putBuffer('renders/again/take-0.mp4', Buffer.from('first version'), 'video/mp4');
    expect(await readFile(await store.localPath(first), 'utf8')).toBe('first version');
    const second = await store.putBuffer('renders/again/take-0.mp4', Buffer.from('the second one'), 'video/mp4');
    expect(await readFile(await store.localPath(second), 'utf8')).toBe('the second one');
  });

  it('answers one sentence naming the bucket when the store does not answer', async () => {
    // Port 9 (discard) has nothing listening here.
    const offline = await artifactStoreFromConfig(loadConfig({ ...s3.env(), ARTIFACTS_URL: 's3://nowhere', S3_ENDPOINT: 'http://127.0.0.1:9' }), { cacheDir: scratch });
    const error = await refusal(offline.putBuffer('renders/x/take-0.mp4', Buffer.from('x'), 'video/mp4'));
    expect(error.code).toBe('unavailable');
    expect(error.message).toMatch(/^The artifact store \(bucket "nowhere"\) did not answer for "renders\/x\/take-0\.mp4": .+; check S3_ENDPOINT, the bucket and the credentials\.$/);
  });
});

describe('a bucket that does not exist', () => {
  it('is a setup error in one sentence, not a missing artifact', async () => {
    const nowhere = await artifactStoreFromConfig(loadConfig({ ...s3.env(), ARTIFACTS_URL: 's3://no-such-bucket' }), { cacheDir: scratch });
    const error = await refusal(nowhere.putBuffer('renders/x/take-0.mp4', Buffer.from('x'), 'video/mp4'));
    expect(error.code).toBe('unavailable');
    expect(error.message).toContain('NoSuchBucket');
  });
});

describe('settings', () => {
  it('reads ARTIFACTS_URL as a bucket and a key prefix', () => {
    expect(parseArtifactsUrl('s3://dailies')).toEqual({ bucket: 'dailies', prefix: '' });
    expect(parseArtifactsUrl('s3://dailies/team-a/renders/')).toEqual({ bucket: 'dailies', prefix: 'team-a/renders/' });
    const config = loadConfig({ ARTIFACTS_URL: 's3://dailies/a', S3_ENDPOINT: 'http://minio:9000', S3_FORCE_PATH_STYLE: 'true' });
    expect([config.ARTIFACTS_URL, config.S3_ENDPOINT, config.S3_REGION, config.S3_FORCE_PATH_STYLE]).toEqual(['s3://dailies/a', 'http://minio:9000', 'us-east-1', true]);
    expect(loadConfig({ ARTIFACTS_URL: '' }).ARTIFACTS_URL).toBeUndefined();
    expect(loadConfig({}).S3_FORCE_PATH_STYLE).toBe(false);
  });

  it.each([
    ['ARTIFACTS_URL', 'https://bucket.s3.amazonaws.com', /ARTIFACTS_URL.*must look like s3:\/\/bucket or s3:\/\/bucket\/prefix/],
    ['ARTIFACTS_URL', 's3://Bad_Bucket', /ARTIFACTS_URL.*s3:\/\/bucket/],
    ['ARTIFACTS_URL', 's3://dailies/../x', /ARTIFACTS_URL/],
    ['S3_ENDPOINT', 'minio:9000', /S3_ENDPOINT.*http\(s\) URL/],
    ['S3_FORCE_PATH_STYLE', 'yes', /S3_FORCE_PATH_STYLE.*true or false/],
  ])('refuses %s=%s with one sentence', (name, value, message) => {
    let error: Error | undefined;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).toMatch(/fix the variable and restart\.$/);
    expect(error?.message.split('. ').length).toBe(1);
  });
});

describe('the web chat serving a bucket', () => {
  let t: TestChat;
  const video = randomBytes(5000);

  beforeAll(async () => {
    t = await startTestChat({ artifacts: store });
    await store.putBuffer('renders/web/take-1.mp4', video, 'video/mp4');
    await store.putBuffer('renders/web/page.html', Buffer.from('<script>alert(1)</script>'), 'text/html');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
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

  it('serves an object whole, by range, and answers 416 and HEAD as for the folder', async () => {
    const whole = await get('/artifacts/renders/web/take-1.mp4');
    expect([whole.status, whole.headers['content-type'], whole.headers['accept-ranges'], whole.headers['content-length']]).toEqual([200, 'video/mp4', 'bytes', '5000']);
    expect(whole.body.equals(video)).toBe(true);
    const middle = await get('/artifacts/renders/web/take-1.mp4', { Range: 'bytes=100-199' });
    expect([middle.status, middle.headers['content-range']]).toEqual([206, 'bytes 100-199/5000']);
    expect(middle.body.equals(video.subarray(100, 200))).toBe(true);
    const suffix = await get('/artifacts/renders/web/take-1.mp4', { Range: 'bytes=-100' });
    expect([suffix.status, suffix.headers['content-range']]).toEqual([206, 'bytes 4900-4999/5000']);
    expect(suffix.body.equals(video.subarray(4900))).toBe(true);
    const clamped = await get('/artifacts/renders/web/take-1.mp4', { Range: 'bytes=4995-9999' });
    expect(clamped.body.equals(video.subarray(4995))).toBe(true);
    const outside = await get('/artifacts/renders/web/take-1.mp4', { Range: 'bytes=5000-' });
    expect([outside.status, outside.headers['content-range']]).toEqual([416, 'bytes */5000']);
    expect(JSON.parse(outside.body.toString()).error.message).toBe('The requested byte range lies outside the file, which has 5000 bytes; ask for a range within it or for the whole file.');
    const head = await get('/artifacts/renders/web/take-1.mp4', {}, 'HEAD');
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '5000', 0]);
  });

  it('sends other types as downloads, and answers 404 for unknown or unsafe keys', async () => {
    expect((await get('/artifacts/renders/web/page.html')).headers['content-disposition']).toBe('attachment');
    for (const path of ['/artifacts/renders/web/nope.mp4', '/artifacts/renders/web', '/artifacts/../package.json', '/artifacts/renders/%2e%2e/web/take-1.mp4', '/artifacts/.hidden']) {
      expect((await get(path)).status, path).toBe(404);
    }
  });
});
