import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CommandEvent, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { loadSigningIdentity, signMp4 } from '../../src/provenance/index.ts';
import { makeMp4, sampleCredits, tempDir } from '../provenance/helpers.ts';
import { postJson, startTestChat, type TestChat } from './helpers.ts';

/**
 * The page in a real Chromium: a signed final offers "Content Credentials" under the video, which
 * opens the verdict, lineage and contributors in place and closes on a second click; an unsigned
 * final offers nothing.
 */


let t: TestChat;
let browser: Browser;
let outside: string;
let cleanupOutside: () => Promise<void>;
let thread: ThreadRef;

beforeAll(async () => {
  t = await startTestChat();
  ({ dir: outside, cleanup: cleanupOutside } = await tempDir());
  const identity = await loadSigningIdentity(join(outside, 'identity'));
  const plain = await makeMp4(join(outside, 'plain.mp4'), { size: '160x120', faststart: true });
  await signMp4(plain, join(outside, 'take-1.mp4'), sampleCredits(), identity);
  await t.chat.adapter.start(async (event) => {
    if (event.kind !== 'command') return {};
    thread = (await t.chat.adapter.startThread(event as CommandEvent, { text: 'Session: **a red circle**' })).thread;
    return { thread };
  });
  await postJson(`${t.chat.url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'a red circle' } });
  const final = { kind: 'final' as const, contentType: 'video/mp4', bytes: 0 };
  const plainRef = await t.store.putFile('renders/s1/plain.mp4', join(outside, 'plain.mp4'), 'video/mp4');
  const signedRef = await t.store.putFile('renders/s1/take-1.mp4', join(outside, 'take-1.mp4'), 'video/mp4');
  await t.chat.adapter.post(thread, { text: 'Take 1 of v1', attachments: [{ ...final, key: plainRef.key, filename: 'plain.mp4' }] });
  await t.chat.adapter.post(thread, { text: 'Final: take 1 of v2', attachments: [{ ...final, key: signedRef.key, filename: 'take-1.mp4', signed: true }] });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.cleanup();
  await cleanupOutside?.();
});

it('shows Content Credentials under a signed video and opens them in place', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(`${t.chat.url}/#/general/${thread.threadId}`);
  await page.waitForSelector('body[data-ready="true"]');
  const messages = page.locator('#thread-messages');
  await expect.poll(() => messages.locator('figure.final video').count()).toBe(2);

  // Only the signed final offers its credentials.
  const unsigned = messages.locator('.message', { hasText: 'Take 1 of v1' });
  expect(await unsigned.getByRole('button', { name: 'Content Credentials' }).count()).toBe(0);
  const signed = messages.locator('.message', { hasText: 'Final: take 1 of v2' });
  const toggle = signed.getByRole('button', { name: 'Content Credentials' });
  await toggle.waitFor();
  expect(await toggle.getAttribute('aria-expanded')).toBe('false');
  const panel = signed.locator('.credentials');
  expect(await panel.isVisible()).toBe(false);

  await toggle.click();
  await expect.poll(() => toggle.getAttribute('aria-expanded')).toBe('true');
  expect(await toggle.getAttribute('aria-controls')).toBe(await panel.getAttribute('id'));
  const state = panel.locator('.cr-state');
  await state.waitFor();
  expect(await state.getAttribute('data-state')).toBe('valid');
  expect(await state.textContent()).toContain('Valid.');
  expect(await panel.locator('.cr-lineage li').allTextContents()).toEqual([
    'v1 "a red circle moving to the left" by Ana (first version)',
    `v2 "a red circle moving slowly to the left" (avoiding "blurry") by Bo, from v1#2 (added 'slowly')`,
  ]);
  expect(await panel.locator('.cr-contributors li').allTextContents()).toEqual(['Ana: prompted, voted', 'Bo: revised, voted, finalized']);
  expect(await panel.locator('.cr-facts').textContent()).toContain('shapes-v2');
  const pageLink = panel.getByRole('link', { name: 'Open the Content Credentials page' });
  expect(await pageLink.getAttribute('href')).toMatch(/^\/credentials\/renders\/s1\/take-1\.mp4$/);

  // A second click hides it; a third shows it again without asking the server again.
  await toggle.click();
  await expect.poll(() => panel.isVisible()).toBe(false);
  expect(await toggle.getAttribute('aria-expanded')).toBe('false');
  let fetched = 0;
  page.on('request', (request) => {
    if (request.url().includes('/api/credentials/')) fetched++;
  });
  await toggle.click();
  await expect.poll(() => panel.isVisible()).toBe(true);
  expect(await panel.locator('.cr-lineage li').count()).toBe(2);
  expect(fetched).toBe(0);

  // The video itself still plays.
  const video = signed.locator('figure.final video');
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
  expect(await video.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.error])).toEqual([160, null]);

  expect(pageErrors).toEqual([]);
  await page.close();
});
