import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openChat } from './chromium.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCoreRig, type CoreRig } from './core-rig.ts';
import { startTestChat, type TestChat } from './helpers.ts';

/**
 * Saved defaults in a real Chromium, through the real core: a person sets theirs with /settings
 * in the channel's message box, and their next /video uses them and says so; a bad value is one
 * sentence under the box, and the next /video is unchanged by it.
 */


let t: TestChat;
let rig: CoreRig;
let dir: string;
let browser: Browser;

beforeAll(async () => {
  t = await startTestChat();
  dir = await mkdtemp(join(tmpdir(), 'dailies-settings-browser-'));
  rig = await startCoreRig(t.chat.adapter, dir, {}, t.store);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rig?.close();
  await t?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('saves your defaults with /settings and the next /video uses them', { timeout: 60_000 }, async () => {
  const errors: string[] = [];
  const page = await openChat(browser, t.chat.url, 'Ana', errors);
  const input = page.locator('#channel-input');
  const notice = page.locator('#channel-composer .notice');

  await input.fill('/settings takes:1 style:"pixel art"');
  await input.press('Enter');
  await expect.poll(() => notice.textContent()).toBe('Only you can see this Your defaults are now: takes 1, style "pixel art".');

  await input.fill('/settings takes:9');
  await input.press('Enter');
  await expect.poll(() => notice.textContent()).toContain('takes must be a whole number from 1 to 4.');

  await input.fill('/video a red circle moving left');
  await input.press('Enter');
  await page.locator('#thread-panel').waitFor({ state: 'visible' });
  await expect.poll(() => notice.textContent()).toBe('Only you can see this Started "a red circle moving left" with 1 take in a new thread (from your settings: takes 1, style "pixel art").');
  await rig.settle();
  expect(rig.queue.jobs.at(-1)!.request).toMatchObject({ prompt: 'a red circle moving left, pixel art', takes: 1 });
  // The thread's progress message says one take.
  await expect.poll(() => page.locator('#thread-messages .message .text', { hasText: /^1 take · v1/ }).count()).toBe(1);
  expect(errors).toEqual([]);
  await page.close();
});
