import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestChat, type TestChat } from './helpers.ts';

/** Issue 11, item 9: a 416 carries the API's error body like every other error, and keeps Content-Range. */

let t: TestChat;
const file = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));

function get(path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(t.chat.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  t = await startTestChat();
  await writeFile(join(t.artifactsDir, 'clip.mp4'), file);
  await writeFile(join(t.artifactsDir, 'empty.mp4'), Buffer.alloc(0));
});

afterAll(async () => {
  await t.cleanup();
});

describe('416 Range Not Satisfiable', () => {
  it.each([['bytes=1000-'], ['bytes=5000-6000'], ['bytes=-0']])('%s answers the JSON error body with Content-Range', async (range) => {
    const res = await get('/artifacts/clip.mp4', { Range: range });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */1000');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({
      error: { code: 'bad_input', message: 'The requested byte range lies outside the file, which has 1000 bytes; ask for a range within it or for the whole file.' },
    });
  });

  it('says the same about an empty file', async () => {
    const res = await get('/artifacts/empty.mp4', { Range: 'bytes=0-' });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */0');
    expect(JSON.parse(res.body).error.message).toBe('The requested byte range lies outside the file, which has 0 bytes; ask for a range within it or for the whole file.');
  });

  it('answers HEAD with the same status and headers and no body', async () => {
    const res = await get('/artifacts/clip.mp4', { Range: 'bytes=2000-' }, 'HEAD');
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */1000');
    expect(res.body).toBe('');
  });

  it('still serves satisfiable ranges', async () => {
    const res = await get('/artifacts/clip.mp4', { Range: 'bytes=10-19' });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe('bytes 10-19/1000');
  });
});
