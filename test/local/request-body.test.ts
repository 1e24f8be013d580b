import { describe, expect, it } from 'vitest';
import { readRequestBody, readRequestBytes } from '../../bots/local/request-body.ts';

// The Node stream path is covered through the real server in http-api.test.ts (declared length,
// chunked overflow, bad encodings); this is the Fetch API path `app.request` takes.
describe('readRequestBody without a Node request', () => {
  it('returns the text within the limit and refuses what passes it, counting bytes not characters', async () => {
    expect(await readRequestBody({ fetchText: async () => '{"a":1}' }, 7)).toBe('{"a":1}');
    expect(await readRequestBody({ fetchText: async () => '{"a":12}' }, 7)).toBe('too-large');
    expect(await readRequestBody({ fetchText: async () => '"éé"' }, 5)).toBe('too-large');
  });
});

describe('readRequestBytes without a Node request', () => {
  it('returns the bytes within the limit and refuses what passes it', async () => {
    const bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47]);
    expect(await readRequestBytes({ fetchBytes: async () => bytes.buffer }, 4)).toEqual(Buffer.from(bytes));
    expect(await readRequestBytes({ fetchBytes: async () => bytes.buffer }, 3)).toBe('too-large');
  });
});
