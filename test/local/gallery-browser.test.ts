import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium, setName } from './chromium.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readGallery } from '../../src/core/gallery.ts';
import { startCoreRig, type CoreRig } from './core-rig.ts';
import { GalleryLinks } from '../../src/core/gallery-links.ts';
import { startTestChat, type TestChat } from './helpers.ts';

/**
 * The gallery in a real Chromium: a session run from the page through the real core (a fake
 * worker finishes the render with real files) to a vote's winner, /gallery answered in the thread,
 * the Gallery link in the page's header, the winning take shown with its poster, prompt, lineage
 * and credits, and its thread link opening the thread in the web chat.
 */

const run = promisify(execFile);

let t: TestChat;
let rig: CoreRig;
let dir: string;
let browser: Browser;
let media: { video: Buffer; poster: Buffer };

beforeAll(async () => {
  t = await startTestChat({ gallery: { read: (channelKey, page) => readGallery(rig.store, channelKey, page, { anonymous: false }), links: new GalleryLinks('test-gallery-secret') } });
  dir = await mkdtemp(join(tmpdir(), 'dailies-gallery-browser-'));
  rig = await startCoreRig(t.chat.adapter, dir, {}, t.store);
  // A small real H.264 clip and a PNG still, in place of what the rig's worker writes.
  const [videoPath, posterPath] = [join(dir, 'take.mp4'), join(dir, 'take.png')];
  await run('/usr/bin/ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=8:duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', videoPath]);
  await run('/usr/bin/ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120', '-frames:v', '1', posterPath]);
  media = { video: await readFile(videoPath), poster: await readFile(posterPath) };
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rig?.close();
  await t?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});


it('opens the gallery from the page header, shows the winning take, and follows its thread link', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`${message.text()} (${message.location().url})`);
  });
  await page.goto(t.chat.url);
  await page.waitForSelector('body[data-ready="true"]');
  await setName(page, 'Ana');

  // A session from the page; the worker finishes its two takes.
  const input = page.locator('#channel-input');
  await input.fill('/video a red circle <b>moving</b> takes:2');
  await input.press('Enter');
  await page.locator('#thread-panel').waitFor({ state: 'visible' });
  const threadHash = await page.evaluate(() => location.hash);
  await expect.poll(() => rig.queue.jobs.length).toBe(1);
  const job = rig.queue.jobs[0]!;
  await rig.finish(job);
  for (const i of [1, 2]) {
    await t.store.putBuffer(`${job.jobId}-take${i}.mp4`, media.video, 'video/mp4');
    await t.store.putBuffer(`${job.jobId}-take${i}.png`, media.poster, 'image/png');
  }

  // Ana owns the session and picks take 2: it wins the vote.
  const thread = page.locator('#thread-messages');
  const take2 = thread.locator('.message', { hasText: 'Take 2 of v1' });
  await take2.getByRole('button', { name: 'Pick (owner)' }).click();
  const notice = page.locator('#thread-composer .notice');
  await expect.poll(() => rig.store.getByThread(job.thread).then((s) => s?.rounds[0]?.winner)).toBe(1);

  // /gallery in the thread answers with the channel's gallery, to Ana only.
  const reply = page.locator('#thread-input');
  await reply.fill('/gallery');
  await reply.press('Enter');
  await expect.poll(() => notice.textContent()).toContain("This channel's gallery: /gallery?channel=local:general");

  // The header's Gallery link.
  await page.getByRole('link', { name: 'Gallery', exact: true }).click();
  await page.waitForURL(`${t.chat.url}/gallery`);
  const general = page.locator('section.channel[data-channel="local:general"]');
  const take = general.locator('li.take');
  await expect.poll(() => take.count()).toBe(1);
  expect(await take.locator('.what strong').textContent()).toBe('v1#2');
  expect(await take.locator('.what').textContent()).toContain('won its vote');
  // The prompt is text: the <b> people typed shows as characters, not as bold.
  expect(await take.locator('.prompt').textContent()).toBe('a red circle <b>moving</b>');
  expect(await take.locator('.prompt b').count()).toBe(0);
  expect(await take.locator('.lineage').textContent()).toBe('v1 by Ana');
  expect(await take.locator('.credits').textContent()).toBe('Credits: Ana (prompted)');
  // Its time in the viewer's own zone, the server's UTC text as the title.
  const time = take.locator('time');
  await expect.poll(() => time.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  expect(await time.textContent()).not.toContain('UTC');
  expect(Math.abs(Date.parse((await time.getAttribute('datetime'))!) - Date.now())).toBeLessThan(600_000);
  expect(await page.locator('section.channel[data-channel="local:studio"] .empty').textContent()).toBe('No winning or finalized takes yet.');

  // Its poster and its video are the take's own files, served by this server.
  const video = take.locator('video');
  expect(await video.getAttribute('poster')).toBe(`/artifacts/${job.jobId}-take2.png`);
  const posterWidth = await page.evaluate(async (src) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    return img.naturalWidth;
  }, (await video.getAttribute('poster'))!);
  expect(posterWidth).toBe(160);
  await video.evaluate((v: HTMLVideoElement) => v.play());
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
  expect(await video.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.error])).toEqual([160, null]);

  // Its thread link opens the thread in the web chat.
  await take.getByRole('link', { name: 'Open the thread' }).click();
  await page.waitForSelector('body[data-ready="true"]');
  expect(await page.evaluate(() => location.hash)).toBe(threadHash);
  await page.locator('#thread-panel').waitFor({ state: 'visible' });
  await expect.poll(() => page.locator('#thread-title').textContent()).toBe('a red circle <b>moving</b>');

  expect(pageErrors).toEqual([]);
  await page.close();
});
