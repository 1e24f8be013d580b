import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium, setName } from './chromium.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChatEvent, CommandEvent, EventOutcome, MessageRef, OutgoingMessage, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { startTestChat, type TestChat } from './helpers.ts';

/**
 * The page in a real Chromium against the real server and Redis, with a scripted stand-in for the
 * core: a person types /video, watches the progress message update live, sees the preview and the
 * final video play, votes as two people, and replies in the thread.
 */

const run = promisify(execFile);

let t: TestChat;
let browser: Browser;
let previewPath: string;
let videoPath: string;
const pageErrors: string[] = [];

/** Stand-in for the core: queues a "render" that reports progress, a preview, then a take with buttons. */
function fakeCore(chat: TestChat) {
  const adapter = chat.chat.adapter;
  const votes = new Map<string, Set<string>>();
  let take: { ref: MessageRef; message: OutgoingMessage } | null = null;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const takeMessage = (): OutgoingMessage => {
    const n = votes.get('vote:s1:1:0')?.size ?? 0;
    return {
      text: `Take 1 of v1 · seed 7 · ${n} vote${n === 1 ? '' : 's'}`,
      buttons: [
        [
          { action: 'vote:s1:1:0', label: `Vote 1 (${n})`, style: 'primary' },
          { action: 'finalize:s1:j1:0', label: 'Finalize', style: 'success' },
        ],
        [
          { action: 'reroll:s1', label: 'Reroll' },
          { action: 'cancel:j1', label: 'Cancel', style: 'danger', disabled: true },
        ],
      ],
    };
  };

  async function render(thread: ThreadRef) {
    const progress = await adapter.post(thread, { text: 'Queued: 1st in line.', buttons: [[{ action: 'cancel:j1', label: 'Cancel', style: 'danger' }]] });
    await sleep(700);
    await adapter.edit(progress, { text: '▓▓░░ · step 2/4', buttons: [[{ action: 'cancel:j1', label: 'Cancel', style: 'danger' }]] });
    await sleep(700);
    await adapter.post(thread, { text: 'Preview at step 2/4', attachments: [{ kind: 'preview', key: 'renders/preview.webp', filename: 'preview.webp', contentType: 'image/webp', bytes: 0 }] });
    await adapter.edit(progress, { text: '▓▓▓▓ · step 4/4 · Done.' });
    const message = takeMessage();
    const ref = await adapter.post(thread, { ...message, attachments: [{ kind: 'final', key: 'renders/take-1.mp4', filename: 'take-1.mp4', contentType: 'video/mp4', bytes: 0 }] });
    take = { ref, message };
  }

  return async (event: ChatEvent): Promise<EventOutcome> => {
    if (event.kind === 'command' && event.name === 'video') {
      const prompt = String(event.options.prompt ?? '').trim();
      if (!prompt) return { error: { code: 'bad_input', message: 'Add a prompt after /video, like "/video a red circle".' } };
      const { thread } = await adapter.startThread(event as CommandEvent, { text: `Session: **${prompt}**\nReply in the thread to refine it.` });
      // Like the real core, the render is queued: the command is acknowledged before it runs.
      void render(thread);
      return { thread };
    }
    if (event.kind === 'action' && event.action === 'vote:s1:1:0') {
      const voters = votes.get(event.action) ?? new Set<string>();
      voters.add(event.user.id);
      votes.set(event.action, voters);
      if (take) await adapter.edit(take.ref, takeMessage());
      return { ephemeral: `${event.user.name}, your vote for take 1 is counted.` };
    }
    if (event.kind === 'reply') {
      await adapter.post(event.thread, { text: `${event.user.name} refined it: "${event.text}" · v2 queued.` });
      return {};
    }
    return { ephemeral: 'Nothing to do for that here.' };
  };
}

beforeAll(async () => {
  t = await startTestChat();
  previewPath = join(t.artifactsDir, 'renders', 'preview.webp');
  videoPath = join(t.artifactsDir, 'renders', 'take-1.mp4');
  await run('mkdir', ['-p', join(t.artifactsDir, 'renders')]);
  // A small real H.264 MP4 (what the encoder produces) and an animated WebP preview.
  await run('/usr/bin/ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=12:duration=3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', videoPath]);
  await run('/usr/bin/ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=6:duration=1', '-c:v', 'libwebp_anim', '-loop', '0', previewPath]);
  await t.chat.adapter.start(fakeCore(t));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.cleanup();
});


it('runs a session from the page: command, live progress, preview, video, votes, reply', { timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // Refusals answered 4xx are part of the flow; Chromium logs every non-2xx fetch.
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) pageErrors.push(message.text());
  });
  await page.goto(t.chat.url);
  await page.waitForSelector('body[data-ready="true"]');
  await expect.poll(() => page.locator('#channel-list a').allTextContents()).toEqual(['#general', '#studio']);
  await setName(page, 'Ana');

  // Slash-command autocomplete, by keyboard.
  const input = page.locator('#channel-input');
  await input.click();
  await input.pressSequentially('/vi');
  await expect.poll(() => page.locator('#channel-suggestions [role="option"]').allTextContents()).toEqual([expect.stringContaining('/video')]);
  await input.press('Tab');
  expect(await input.inputValue()).toBe('/video ');
  await expect.poll(() => page.locator('#channel-usage').textContent()).toContain('/video prompt');
  await input.pressSequentially('a red circle');
  await input.press('Enter');

  // The thread opens beside the channel, with the root first.
  const panel = page.locator('#thread-panel');
  await panel.waitFor({ state: 'visible' });
  await expect.poll(() => page.locator('#thread-title').textContent()).toBe('a red circle');
  await expect.poll(() => input.inputValue()).toBe('');
  const thread = page.locator('#thread-messages');
  await expect.poll(() => thread.locator('.message').first().locator('.invocation').textContent()).toBe('Ana used /video a red circle');
  expect(await thread.locator('.message').first().locator('.text strong').textContent()).toBe('a red circle');

  // The progress message is edited in place.
  const progress = thread.locator('.message', { hasText: 'Queued: 1st in line.' });
  await progress.waitFor();
  const progressId = await progress.getAttribute('data-id');
  const sameProgress = thread.locator(`.message[data-id="${progressId}"]`);
  await expect.poll(() => sameProgress.locator('.text').textContent()).toContain('step 2/4');
  await expect.poll(() => sameProgress.locator('.text').textContent()).toContain('step 4/4');
  expect(await sameProgress.locator('.edited').isVisible()).toBe(true);
  expect(await sameProgress.locator('.buttons button').count()).toBe(0);

  // The animated preview loads.
  const preview = thread.locator('figure.preview img');
  await preview.waitFor();
  await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(160);

  // The final video loads and plays inline (muted, so no gesture is needed).
  const video = thread.locator('figure.final video');
  await video.waitFor();
  expect(await video.evaluate((v: HTMLVideoElement) => [v.controls, v.muted, v.loop, v.hasAttribute('playsinline')])).toEqual([true, true, true, true]);
  await video.evaluate((v: HTMLVideoElement) => v.play());
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
  const t0 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 15_000 }).toBeGreaterThan(t0 + 0.2);
  expect(await video.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.error])).toEqual([160, null]);
  // A take's file is captioned for what it is; "Final" is for finalized renders, which their message names.
  expect(await thread.locator('figure.final figcaption .kind').first().textContent()).toBe('Video');
  expect(await thread.locator('figure.preview figcaption .kind').first().textContent()).toBe('Preview');

  // Vote as Ana; the tally updates live and the note is only for her.
  const takeMessage = thread.locator('.message', { has: page.locator('figure.final') });
  await takeMessage.getByRole('button', { name: 'Vote 1 (0)' }).click();
  await expect.poll(() => takeMessage.locator('button[data-action="vote:s1:1:0"]').textContent()).toBe('Vote 1 (1)');
  const notice = page.locator('#thread-composer .notice');
  await expect.poll(() => notice.textContent()).toContain('Ana, your vote for take 1 is counted.');
  expect(await notice.locator('.only-you').textContent()).toBe('Only you can see this');
  expect(await takeMessage.getByRole('button', { name: 'Cancel' }).isDisabled()).toBe(true);
  expect(await takeMessage.getByRole('button', { name: 'Finalize' }).isVisible()).toBe(true);
  expect(await takeMessage.getByRole('button', { name: 'Reroll' }).isVisible()).toBe(true);

  // The video keeps playing through the edit: edits do not rebuild attachments.
  expect(await video.evaluate((v: HTMLVideoElement) => v.paused)).toBe(false);

  // Switch to Ben in the same browser and vote again.
  await setName(page, 'Ben');
  await takeMessage.locator('button[data-action="vote:s1:1:0"]').click();
  await expect.poll(() => takeMessage.locator('button[data-action="vote:s1:1:0"]').textContent()).toBe('Vote 1 (2)');
  await expect.poll(() => notice.textContent()).toContain('Ben, your vote for take 1 is counted.');
  expect(await page.evaluate(() => localStorage.getItem('dailies.name'))).toBe('Ben');

  // Reply in the thread.
  const reply = page.locator('#thread-input');
  await reply.fill('make it blue');
  await reply.press('Enter');
  await expect.poll(() => thread.locator('.message').last().locator('.text').textContent()).toBe('Ben refined it: "make it blue" · v2 queued.');
  // Ben's own reply is shown in the thread too, under his name, before the bot's answer.
  const own = thread.locator('.message', { hasText: 'make it blue' }).first();
  await expect.poll(() => own.textContent()).toContain('Ben');
  await expect.poll(() => reply.inputValue()).toBe('');

  // The channel shows the session root with its live reply count; closing the thread keeps the channel.
  const root = page.locator('#channel-messages .message', { hasText: 'a red circle' });
  await expect.poll(() => root.locator('.thread-link').textContent()).toBe('5 replies · Open thread');
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  await root.locator('.thread-link').click();
  await panel.waitFor({ state: 'visible' });
  await expect.poll(() => thread.locator('.message').count()).toBe(6);

  // Errors from the core show inline to the person who caused them.
  await input.fill('/video');
  await input.press('Enter');
  const channelNotice = page.locator('#channel-composer .notice');
  await expect.poll(() => channelNotice.textContent()).toContain('Add a prompt after /video');
  expect(await channelNotice.getAttribute('role')).toBe('alert');
  await input.fill('hello there');
  await input.press('Enter');
  await expect.poll(() => channelNotice.textContent()).toContain('Start with /');

  // Text from people is never parsed as HTML.
  await reply.fill('<img src=x onerror="document.body.dataset.pwned=1">');
  await reply.press('Enter');
  await expect.poll(() => thread.locator('.message').last().locator('.text').textContent()).toContain('<img src=x');
  expect(await page.evaluate(() => document.body.dataset.pwned ?? null)).toBeNull();

  expect(pageErrors).toEqual([]);
  await page.close();
});

it('reloads into the same channel and thread from the address', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(t.chat.url);
  await page.waitForSelector('body[data-ready="true"]');
  const link = page.locator('#channel-messages .thread-link').first();
  await link.click();
  await page.locator('#thread-panel').waitFor({ state: 'visible' });
  const hash = await page.evaluate(() => location.hash);
  expect(hash).toMatch(/^#\/general\/t_/);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await page.locator('#thread-panel').waitFor({ state: 'visible' });
  await expect.poll(() => page.locator('#thread-title').textContent()).toBe('a red circle');
  await expect.poll(() => page.locator('#thread-messages .message').count()).toBeGreaterThan(3);

  // Several tabs of one browser (one connection pool of six) all stay live: one stream per tab.
  const context = await browser.newContext();
  const tabs = await Promise.all(Array.from({ length: 5 }, () => context.newPage()));
  await Promise.all(tabs.map((tab) => tab.goto(`${t.chat.url}/${hash}`)));
  for (const tab of tabs) await expect.poll(() => tab.locator('#thread-title').textContent(), { timeout: 15_000 }).toBe('a red circle');
  const threadId = hash.split('/')[2]!;
  await t.chat.adapter.post({ platform: 'local', channelId: 'general', threadId }, { text: 'seen by every tab' });
  for (const tab of tabs) await expect.poll(() => tab.locator('#thread-messages .message').last().textContent(), { timeout: 15_000 }).toContain('seen by every tab');
  await context.close();

  // A new channel from the sidebar.
  await page.getByLabel('Add a channel', { exact: true }).fill('night-shift');
  await page.getByLabel('Add a channel', { exact: true }).press('Enter');
  await expect.poll(() => page.evaluate(() => location.hash)).toBe('#/night-shift');
  await expect.poll(() => page.locator('#channel-title').textContent()).toBe('# night-shift');
  expect(await page.locator('#channel-list a[aria-current="page"]').textContent()).toBe('#night-shift');
  await page.close();
});
