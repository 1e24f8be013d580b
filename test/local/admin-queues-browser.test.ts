import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import { renderJob, testQueue, waitFor } from '../workers/fixtures/redis-test-env.ts';
import { startTestChat, type TestChat } from './helpers.ts';

/**
 * bull-board's page in a real Chromium under the dashboard's CSP, over real BullMQ and Redis: the
 * browser's Basic-auth prompt is answered with the token, the page shows the waiting render, has
 * no remove button when read-only, and in write mode its own remove button (and its confirm)
 * takes the job out and frees its owner's place in the cap.
 */

const TOKEN = 'admin-token-browser-0123456789';

const env = testQueue();
let queue: BullmqJobQueue;
let readOnly: TestChat;
let writable: TestChat;
let browser: Browser;

beforeAll(async () => {
  queue = new BullmqJobQueue({ redis: env.redis, prefix: env.prefix, queueName: env.queueName, perPersonCap: 1, positionUpdates: false });
  queue.onEvent(() => {});
  await queue.eventsReady();
  const queues = () => [queue.dashboardQueue()];
  readOnly = await startTestChat({ adminQueues: { token: TOKEN, write: false, queues } });
  writable = await startTestChat({ adminQueues: { token: TOKEN, write: true, queues } });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const chat of [readOnly, writable]) await chat?.cleanup();
  await queue?.close();
  await env.cleanup();
});

/** The queue's waiting renders, as an operator opens them; what the page reports going wrong is collected. */
async function open(chat: TestChat, problems: string[]): Promise<Page> {
  const context = await browser.newContext({ httpCredentials: { username: 'ops', password: TOKEN } });
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(error.message));
  // The Google Fonts stylesheet the page links is blocked on purpose (no third-party requests).
  page.on('console', (m) => m.type() === 'error' && !m.text().includes('fonts.googleapis.com') && problems.push(m.text()));
  await page.goto(`${chat.chat.url}/admin/queues/queue/${env.queueName}?status=prioritized`);
  return page;
}

it('shows the waiting render, read-only without a remove button, and removes it in write mode', async () => {
  const job = renderJob({ userId: 'ana', channelKey: 'local:x' });
  await queue.enqueue(job);
  await expect(queue.enqueue(renderJob({ userId: 'ana', channelKey: 'local:x' }))).rejects.toMatchObject({ code: 'rate_limited' });
  const trash = 'button:has(svg.lucide-trash-2)';

  const problems: string[] = [];
  const viewer = await open(readOnly, problems);
  await viewer.getByText(job.jobId).first().waitFor({ timeout: 20_000 });
  expect(await viewer.locator(trash).count()).toBe(0);

  const operator = await open(writable, problems);
  await operator.getByText(job.jobId).first().waitFor({ timeout: 20_000 });
  await operator.locator(trash).first().click();
  await operator.getByRole('button', { name: 'Confirm' }).click();
  await waitFor(async () => (await queue.dashboardQueue().getJob(job.jobId)) === undefined, 10_000, 'the job to be removed');
  await waitFor(async () => (await queue.fair.outstanding('ana')).length === 0, 5_000, 'the removal to be settled');
  await expect(queue.enqueue(renderJob({ userId: 'ana', channelKey: 'local:x' }))).resolves.toMatchObject({ state: 'waiting', position: 1 });
  expect(problems).toEqual([]);
}, 60_000);
