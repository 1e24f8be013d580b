import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStack, type Stack } from '../e2e/stack.ts';
import { testImage } from './image-fixtures.ts';

/**
 * Animating a still from the page, against the whole product: `dailies start` as a child process
 * (web chat, core, BullMQ on the real Redis, a worker on the built-in model, ffmpeg). Ana is
 * refused a file that is not an image, pastes an image and removes it, picks the still with the
 * file button and removes it, picks it again, sends /video and watches the animated take arrive;
 * then she drops a second still on the thread's message box and replies with it.
 */

// One render of the built-in model takes ~10 s on an idle 2-core machine; training in the
// background can make it several times slower.
const RENDER_MS = 180_000;
const UI_MS = 20_000;

let stack: Stack;
let browser: Browser;
let dir: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dailies-upload-page-'));
  await testImage(dir, 'still.png', '96x64');
  await testImage(dir, 'second.jpg', '64x64');
  await writeFile(join(dir, 'notes.png'), 'these are notes, not a picture\n'.repeat(10));
  [stack, browser] = await Promise.all([startStack(), launchChromium()]);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.cleanup();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

const poll = <T>(fn: () => Promise<T> | T, timeout = UI_MS) => expect.poll(fn, { timeout, interval: 250 });

async function pickWithButton(page: Page, composer: Locator, file: string) {
  const chooser = page.waitForEvent('filechooser');
  await composer.getByRole('button', { name: 'Attach an image to animate' }).click();
  await (await chooser).setFiles(join(dir, file));
}

/** Every file under the stack's inputs/ folder: the stills the core's image intake kept for the worker. */
async function inputs(): Promise<Buffer[]> {
  const entries = await readdir(join(stack.artifactsDir, 'inputs'), { recursive: true, withFileTypes: true }).catch(() => []);
  return Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name))));
}

async function uploads(): Promise<string[]> {
  const entries = await readdir(join(stack.artifactsDir, 'uploads'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

it('attaches a still with the file button and animates it with /video, then replies with a dropped one', { timeout: 480_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // The refused upload answers 400; Chromium logs every non-2xx fetch.
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) pageErrors.push(message.text());
  });
  await page.goto(stack.url);
  await page.waitForSelector('body[data-ready="true"]');
  await page.getByLabel('Your name', { exact: true }).fill('Ana');
  await page.getByLabel('Your name', { exact: true }).press('Enter');

  const composer = page.locator('#channel-composer');
  const chip = composer.locator('.image-chip');
  const notice = composer.locator('.notice');

  // A file that only claims to be a PNG: one sentence from the server, no chip, nothing kept.
  await pickWithButton(page, composer, 'notes.png');
  await poll(() => notice.textContent()).toBe('The uploaded file is not a PNG, JPEG or WebP image (its bytes are not one); choose an image file.');
  expect(await notice.getAttribute('role')).toBe('alert');
  expect(await chip.count()).toBe(0);
  expect(await uploads()).toEqual([]);

  // A pasted image is attached the same way; × takes it off again.
  const pasted = (await readFile(join(dir, 'still.png'))).toString('base64');
  await page.locator('#channel-input').evaluate((input: HTMLInputElement, data: string) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], 'image.png', { type: 'image/png' }));
    input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  }, pasted);
  await poll(() => chip.locator('.chip-label').textContent()).toBe('image.png · 96×64');
  await chip.getByRole('button', { name: 'Remove image.png' }).click();
  expect(await chip.count()).toBe(0);

  // The still picked with the file button, shown as the server kept it.
  await pickWithButton(page, composer, 'still.png');
  await poll(() => chip.locator('.chip-label').textContent()).toBe('still.png · 96×64');
  await poll(() => chip.locator('img.thumb').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(96);
  expect(await notice.isVisible()).toBe(false);
  await chip.getByRole('button', { name: 'Remove still.png' }).click();
  expect(await chip.count()).toBe(0);

  await pickWithButton(page, composer, 'still.png');
  await poll(() => chip.getAttribute('data-key')).toMatch(/^uploads\/local-[0-9a-f]{16}\/[0-9a-f]{32}\.png$/);
  const key = (await chip.getAttribute('data-key'))!;
  const input = page.locator('#channel-input');
  await input.fill('/video a red circle moving left on a black background takes:1');
  await input.press('Enter');

  // The thread opens, the box and its chip are cleared, and the take arrives as a playable video.
  const thread = page.locator('#thread-messages');
  await page.locator('#thread-panel').waitFor({ state: 'visible', timeout: UI_MS });
  await poll(() => input.inputValue()).toBe('');
  expect(await chip.count()).toBe(0);
  const take = thread.locator('.message', { has: page.locator('.text', { hasText: /^Take 1 of v1 · seed \d+/ }) });
  await take.waitFor({ timeout: RENDER_MS });
  const video = take.locator('figure.final video');
  await video.evaluate((v: HTMLVideoElement) => v.play());
  await poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), 30_000).toBeGreaterThanOrEqual(2);
  expect(await video.evaluate((v: HTMLVideoElement) => [v.videoWidth > 0, v.error])).toEqual([true, null]);
  // It was rendered from the upload: the core kept exactly those bytes for the worker.
  const still = await readFile(join(stack.artifactsDir, key));
  expect((await inputs()).some((b) => b.equals(still))).toBe(true);

  // A second still dropped on the thread's box rides along with a reply.
  const replyBox = page.locator('#thread-composer');
  const bytes = (await readFile(join(dir, 'second.jpg'))).toString('base64');
  await replyBox.evaluate((form: HTMLFormElement, data: string) => {
    const file = new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], 'second.jpg', { type: 'image/jpeg' });
    const transfer = new DataTransfer();
    transfer.items.add(file);
    form.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    form.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, bytes);
  const replyChip = replyBox.locator('.image-chip');
  await poll(() => replyChip.getAttribute('data-key')).toMatch(/\.jpg$/);
  const secondKey = (await replyChip.getAttribute('data-key'))!;
  const reply = page.locator('#thread-input');
  await reply.fill('on a blue background');
  await reply.press('Enter');
  await poll(() => reply.inputValue()).toBe('');
  expect(await replyChip.count()).toBe(0);
  await thread.locator('.message', { has: page.locator('.text', { hasText: /^1 take · v2 \(from v1, Ana\)/ }) }).waitFor({ timeout: UI_MS });
  const second = await readFile(join(stack.artifactsDir, secondKey));
  expect((await inputs()).some((b) => b.equals(second))).toBe(true);

  expect(pageErrors).toEqual([]);
  await page.close();
});
