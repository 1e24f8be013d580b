import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import { DEFAULT_ATTACHMENT_RULES, checkAttachment, fetchAttachment, hostAllowed, type AttachmentRules } from '../../src/safety/attachment-check.ts';

let server: Server;
let port = 0;
const PNG = Buffer.alloc(2000, 7);

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/ok.png':
        res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
        break;
      case '/huge.png':
        // No Content-Length: the cap must hold while streaming.
        res.writeHead(200, { 'content-type': 'image/png', 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 50; i++) res.write(Buffer.alloc(1000, 1));
        res.end();
        break;
      case '/lying.png':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': '999999' }).end();
        break;
      case '/html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
        break;
      case '/same-host-redirect':
        res.writeHead(302, { location: '/ok.png' }).end();
        break;
      case '/other-host-redirect':
        res.writeHead(302, { location: `http://localhost:${port}/ok.png` }).end();
        break;
      case '/loop':
        res.writeHead(302, { location: '/loop' }).end();
        break;
      case '/slow':
        setTimeout(() => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG), 2000);
        break;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const rules: AttachmentRules = { allowedHosts: ['127.0.0.1'], allowedContentTypes: ['image/png'], maxBytes: 10_000, allowHttp: true };
const at = (path: string, extra = {}) => ({ url: `http://127.0.0.1:${port}${path}`, filename: 'a.png', ...extra });

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DailiesError);
    return (e as DailiesError).message;
  }
  throw new Error('expected a refusal');
}

describe('attachment checks', () => {
  it('matches hosts exactly or by a *. suffix rule', () => {
    expect(hostAllowed('cdn.discordapp.com', DEFAULT_ATTACHMENT_RULES.discord.allowedHosts)).toBe(true);
    expect(hostAllowed('cdn.discordapp.com.evil.net', DEFAULT_ATTACHMENT_RULES.discord.allowedHosts)).toBe(false);
    expect(hostAllowed('a.files.example', ['*.files.example'])).toBe(true);
    expect(hostAllowed('files.example', ['*.files.example'])).toBe(false);
    expect(hostAllowed('evilfiles.example', ['*.files.example'])).toBe(false);
  });

  it('checks what the platform declared before downloading', () => {
    const discord = DEFAULT_ATTACHMENT_RULES.discord;
    expect(() => checkAttachment({ url: 'https://cdn.discordapp.com/a.png', filename: 'a', contentType: 'image/png', bytes: 10 }, discord)).not.toThrow();
    expect(() => checkAttachment({ url: 'http://cdn.discordapp.com/a.png', filename: 'a' }, discord)).toThrow('The attachment link uses http, not https; attach the image directly in the chat.');
    expect(() => checkAttachment({ url: 'https://evil.example/a.png', filename: 'a' }, discord)).toThrow('Attachments from evil.example are not accepted; attach the image directly in the chat.');
    expect(() => checkAttachment({ url: 'https://u:p@cdn.discordapp.com/a.png', filename: 'a' }, discord)).toThrow(/credentials/);
    expect(() => checkAttachment({ url: 'not a url', filename: 'a' }, discord)).toThrow(/not a valid URL/);
    expect(() => checkAttachment({ url: 'https://cdn.discordapp.com/a', filename: 'a', contentType: 'application/pdf' }, discord)).toThrow('Attachments of type application/pdf are not accepted; attach a image/png, image/jpeg, image/webp, image/gif file.');
    expect(() => checkAttachment({ url: 'https://cdn.discordapp.com/a', filename: 'a', bytes: 11 * 1024 * 1024 }, discord)).toThrow('The attachment is 11 MB, over the 10 MB limit; attach a smaller image.');
  });

  it('downloads an allowed image, following a same-host redirect', async () => {
    const got = await fetchAttachment(at('/ok.png'), rules);
    expect(got).toMatchObject({ contentType: 'image/png', filename: 'a.png' });
    expect(got.data.byteLength).toBe(2000);
    expect((await fetchAttachment(at('/same-host-redirect'), rules)).data.byteLength).toBe(2000);
  });

  it('never follows a redirect to another host, nor in circles', async () => {
    expect(await refusal(fetchAttachment(at('/other-host-redirect'), { ...rules, allowedHosts: ['127.0.0.1', 'localhost'] }))).toBe('The attachment link redirects to localhost, another host; attach the image directly in the chat.');
    expect(await refusal(fetchAttachment(at('/loop'), rules))).toMatch(/redirects too often/);
  });

  it('stops reading at the byte cap, whatever the headers say', async () => {
    expect(await refusal(fetchAttachment(at('/huge.png'), rules))).toBe('The attachment is over the 10 KB limit; attach a smaller image.');
    expect(await refusal(fetchAttachment(at('/lying.png'), rules))).toBe('The attachment is 977 KB, over the 10 KB limit; attach a smaller image.');
  });

  it('refuses the wrong content type and missing files', async () => {
    expect(await refusal(fetchAttachment(at('/html'), rules))).toMatch(/type text\/html are not accepted/);
    expect(await refusal(fetchAttachment(at('/missing.png'), rules))).toBe('The attachment could not be downloaded (HTTP 404); attach it again.');
  });

  it('gives up on a slow host and honours the caller’s AbortSignal', async () => {
    expect(await refusal(fetchAttachment(at('/slow'), rules, { timeoutMs: 100 }))).toMatch(/took too long or was cancelled/);
    const controller = new AbortController();
    const pending = fetchAttachment(at('/slow'), rules, { signal: controller.signal });
    controller.abort();
    expect(await refusal(pending)).toMatch(/cancelled/);
  });

  it('sends no request for a URL the rules refuse', async () => {
    let called = false;
    const fakeFetch = (async () => {
      called = true;
      return new Response('');
    }) as typeof fetch;
    await refusal(fetchAttachment({ url: 'https://evil.example/a.png', filename: 'a' }, rules, { fetch: fakeFetch }));
    expect(called).toBe(false);
  });
});
