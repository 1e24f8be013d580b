import type { Browser } from 'playwright-core';
import { launchChromium, openChat } from './chromium.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChatEvent, CommandEvent, EventOutcome } from '../../src/core/ports/chat-adapter.ts';
import { startTestChat, type TestChat } from './helpers.ts';

/**
 * The page follows a session's current state live: when a reply makes a new version, the open
 * thread's heading (#thread-title) and its root message change without a reload, in the channel
 * too, and a reload shows the same.
 */


let t: TestChat;
let browser: Browser;

/** Stand-in for the core: /video opens a thread; each reply is the next version, shown on the thread as the core does. */
function fakeCore(chat: TestChat) {
  const adapter = chat.chat.adapter;
  let version = 1;
  let prompt = '';
  let owner = '';
  return async (event: ChatEvent): Promise<EventOutcome> => {
    if (event.kind === 'command' && event.name === 'video') {
      prompt = String(event.options.prompt ?? '');
      owner = event.user.name;
      const { thread } = await adapter.startThread(event as CommandEvent, { text: `${owner} started a video: "${prompt}"` });
      return { thread };
    }
    if (event.kind === 'reply') {
      version += 1;
      prompt = `${prompt}, ${event.text}`;
      await adapter.retitle(event.thread, { title: `v${version} · ${prompt}`, header: `${owner} started a video: "a red circle"\nNow at v${version} by ${event.user.name}: "${prompt}"` });
      return {};
    }
    return {};
  };
}

beforeAll(async () => {
  t = await startTestChat();
  await t.chat.adapter.start(fakeCore(t));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.cleanup();
});

it('a reply retitles the open thread live, and the title stays after a reload', { timeout: 60_000 }, async () => {
  const errors: string[] = [];
  const page = await openChat(browser, t.chat.url, 'Ana', errors);
  const input = page.locator('#channel-input');
  await input.fill('/video a red circle');
  await input.press('Enter');
  await page.locator('#thread-panel').waitFor({ state: 'visible' });
  const title = page.locator('#thread-title');
  await expect.poll(() => title.textContent()).toBe('a red circle');

  await page.getByLabel('Your name', { exact: true }).fill('Ben');
  await page.getByLabel('Your name', { exact: true }).press('Enter');
  const reply = page.locator('#thread-input');
  await reply.fill('moving up');
  await reply.press('Enter');
  await expect.poll(() => title.textContent()).toBe('v2 · a red circle, moving up');
  // The root message (the session header) changes in the thread and in the channel.
  await expect.poll(() => page.locator('#thread-messages .message').first().locator('.text').textContent()).toContain('Now at v2 by Ben: "a red circle, moving up"');
  await expect.poll(() => page.locator('#channel-messages .message', { hasText: 'started a video' }).first().textContent()).toContain('Now at v2 by Ben');

  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await expect.poll(() => page.locator('#thread-title').textContent()).toBe('v2 · a red circle, moving up');
  expect(errors).toEqual([]);
  await page.close();
});
