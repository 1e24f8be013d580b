import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import { DEFAULT_ATTACHMENT_RULES, acceptLocalChatOrigin, checkAttachment, fetchAttachment } from '../../src/safety/attachment-check.ts';

/**
 * Issue 11, item 8: the local platform fetches images from the web chat's own origin only. Two
 * real servers on loopback: "chat" plays the web chat, "other" any other local service (it
 * would happily answer with an image, so only the rules can stop the fetch).
 */

const PNG = Buffer.alloc(500, 9);
let chat: Server;
let other: Server;
let chatPort = 0;
let otherPort = 0;
let withdraw: (() => void) | undefined;
const local = DEFAULT_ATTACHMENT_RULES.local;

function imageServer(): Server {
  return createServer((req, res) => {
    if (req.url === '/artifacts/in.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else if (req.url === '/artifacts/moved.png') res.writeHead(302, { location: '/artifacts/in.png' }).end();
    else res.writeHead(404).end();
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function refusal(url: string): Promise<{ message: string; requested: boolean }> {
  let requested = false;
  const spy = (async (input: string | URL | Request, init?: RequestInit) => {
    requested = true;
    return fetch(input, init);
  }) as typeof fetch;
  try {
    await fetchAttachment({ url, filename: 'in.png' }, local, { fetch: spy, timeoutMs: 2000 });
  } catch (e) {
    expect(e).toBeInstanceOf(DailiesError);
    return { message: (e as DailiesError).message, requested };
  }
  throw new Error(`expected ${url} to be refused`);
}

beforeAll(async () => {
  chat = imageServer();
  other = imageServer();
  chatPort = await listen(chat);
  otherPort = await listen(other);
});

afterEach(() => {
  withdraw?.();
  withdraw = undefined;
});

afterAll(async () => {
  for (const s of [chat, other]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('local attachments', () => {
  it('fetches from the web chat’s own origin, following its own redirects', async () => {
    withdraw = acceptLocalChatOrigin(`http://127.0.0.1:${chatPort}`);
    const got = await fetchAttachment({ url: `http://127.0.0.1:${chatPort}/artifacts/in.png`, filename: 'in.png' }, local);
    expect(got.data.byteLength).toBe(PNG.length);
    expect((await fetchAttachment({ url: `http://127.0.0.1:${chatPort}/artifacts/moved.png`, filename: 'in.png' }, local)).data.byteLength).toBe(PNG.length);
  });

  it('refuses everything while no web chat is listening', async () => {
    const { message, requested } = await refusal(`http://127.0.0.1:${chatPort}/artifacts/in.png`);
    expect(message).toBe(`Attachments from 127.0.0.1:${chatPort} are not accepted; attach the image directly in the chat.`);
    expect(requested).toBe(false);
  });

  it('refuses other loopback ports, Redis’s among them', async () => {
    withdraw = acceptLocalChatOrigin(`http://127.0.0.1:${chatPort}`);
    for (const [url, host] of [
      [`http://127.0.0.1:${otherPort}/artifacts/in.png`, `127.0.0.1:${otherPort}`],
      ['http://127.0.0.1:6379/', '127.0.0.1:6379'],
      ['http://127.0.0.1/artifacts/in.png', '127.0.0.1'],
      [`https://127.0.0.1:${chatPort}/artifacts/in.png`, `127.0.0.1:${chatPort}`],
      [`http://localhost:${chatPort}/artifacts/in.png`, `localhost:${chatPort}`],
      [`http://[::1]:${chatPort}/artifacts/in.png`, `[::1]:${chatPort}`],
      [`http://127.0.0.2:${chatPort}/artifacts/in.png`, `127.0.0.2:${chatPort}`],
      [`http://0.0.0.0:${chatPort}/artifacts/in.png`, `0.0.0.0:${chatPort}`],
    ] as const) {
      const { message, requested } = await refusal(url);
      expect(message, url).toBe(`Attachments from ${host} are not accepted; attach the image directly in the chat.`);
      expect(requested, url).toBe(false);
    }
  });

  it('refuses every other spelling of the chat’s own address', async () => {
    withdraw = acceptLocalChatOrigin(`http://127.0.0.1:${chatPort}`);
    for (const [url, host] of [
      [`http://2130706433:${chatPort}/artifacts/in.png`, '2130706433'],
      [`http://0x7f000001:${chatPort}/artifacts/in.png`, '0x7f000001'],
      [`http://0x7f.0.0.1:${chatPort}/artifacts/in.png`, '0x7f.0.0.1'],
      [`http://0177.0.0.1:${chatPort}/artifacts/in.png`, '0177.0.0.1'],
      [`http://017700000001:${chatPort}/artifacts/in.png`, '017700000001'],
      [`http://127.1:${chatPort}/artifacts/in.png`, '127.1'],
      [`http://127.0.1:${chatPort}/artifacts/in.png`, '127.0.1'],
      [`http://[::ffff:127.0.0.1]:${chatPort}/artifacts/in.png`, '[::ffff:127.0.0.1]'],
      [`http://[::ffff:7f00:1]:${otherPort}/artifacts/in.png`, null],
      [`http://[0:0:0:0:0:ffff:7f00:1]:${chatPort}/artifacts/in.png`, '[0:0:0:0:0:ffff:7f00:1]'],
      [`http://127.0.0.%31:${chatPort}/artifacts/in.png`, '127.0.0.%31'],
      [`http://１２７.０.０.１:${chatPort}/artifacts/in.png`, '１２７.０.０.１'],
      [`http:127.0.0.1:${chatPort}/artifacts/in.png`, null],
      [`http:/127.0.0.1:${chatPort}/artifacts/in.png`, null],
      [`http://127.0.0.1:0${chatPort}/artifacts/in.png`, null],
    ] as const) {
      const { message, requested } = await refusal(url);
      if (host) expect(message, url).toBe(`The attachment link writes its host (${host}) in an unusual form; attach the image directly in the chat.`);
      else expect(message, url).toMatch(/^(The attachment link writes its host \(.*\) in an unusual form|Attachments from \S+ are not accepted); attach the image directly in the chat\.$/);
      expect(requested, url).toBe(false);
    }
  });

  it('refuses credentials and forgets the origin when the chat stops', async () => {
    const stop = acceptLocalChatOrigin(`http://127.0.0.1:${chatPort}`);
    expect(() => checkAttachment({ url: `http://u:p@127.0.0.1:${chatPort}/artifacts/in.png`, filename: 'in.png' }, local)).toThrow('The attachment link carries credentials; attach the image directly in the chat.');
    expect(() => checkAttachment({ url: `http://127.0.0.1:${chatPort}/artifacts/in.png`, filename: 'in.png' }, local)).not.toThrow();
    stop();
    stop();
    expect(() => checkAttachment({ url: `http://127.0.0.1:${chatPort}/artifacts/in.png`, filename: 'in.png' }, local)).toThrow(/are not accepted/);
  });

  it('refuses odd spellings for the other platforms too', () => {
    expect(() => checkAttachment({ url: 'https://CDN.discordapp.com/a.png', filename: 'a' }, DEFAULT_ATTACHMENT_RULES.discord)).not.toThrow();
    expect(() => checkAttachment({ url: 'https://2130706433/a.png', filename: 'a' }, { ...DEFAULT_ATTACHMENT_RULES.slack, allowedHosts: ['127.0.0.1'] })).toThrow(
      'The attachment link writes its host (2130706433) in an unusual form; attach the image directly in the chat.',
    );
  });
});

describe('links that are not web addresses', () => {
  it.each([['file:///etc/passwd', 'file'], ['data:image/png;base64,iVBORw0KGgo=', 'data'], ['ftp://127.0.0.1/in.png', 'ftp'], ['javascript:alert(1)', 'javascript']])('%s is refused by its scheme', (url, scheme) => {
    expect(() => checkAttachment({ url, filename: 'in.png' }, DEFAULT_ATTACHMENT_RULES.local)).toThrow(`The attachment link uses ${scheme}, not https; attach the image directly in the chat.`);
  });
});
