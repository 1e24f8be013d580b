import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ATTACHMENT_RULES, fetchAttachment } from '../../src/safety/attachment-check.ts';
import { REDIS_URL, startTestChat, type TestChat } from './helpers.ts';

/** Issue 11, item 8: a running web chat lends the local platform its own origin, and only that. */

const PNG = Buffer.alloc(300, 3);
let t: TestChat;
let stopped = false;

beforeAll(async () => {
  t = await startTestChat();
  await writeFile(join(t.artifactsDir, 'in.png'), PNG);
});

afterAll(async () => {
  if (!stopped) await t.cleanup();
});

describe('local platform attachments', () => {
  it('come from the running web chat’s own address', async () => {
    const got = await fetchAttachment({ url: `${t.chat.url}/artifacts/in.png`, filename: 'in.png' }, DEFAULT_ATTACHMENT_RULES.local);
    expect(Buffer.from(got.data)).toEqual(PNG);
  });

  it('never from Redis’s port next to it', async () => {
    const redisPort = new URL(REDIS_URL).port || '6379';
    await expect(fetchAttachment({ url: `http://127.0.0.1:${redisPort}/`, filename: 'x.png' }, DEFAULT_ATTACHMENT_RULES.local)).rejects.toThrow(
      `Attachments from 127.0.0.1:${redisPort} are not accepted; attach the image directly in the chat.`,
    );
  });

  it('and no longer once the chat has stopped', async () => {
    const url = `${t.chat.url}/artifacts/in.png`;
    await t.cleanup();
    stopped = true;
    await expect(fetchAttachment({ url, filename: 'in.png' }, DEFAULT_ATTACHMENT_RULES.local)).rejects.toThrow(/are not accepted; attach the image directly in the chat\.$/);
  });
});
