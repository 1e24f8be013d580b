import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/core/ports/job-queue.ts';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import { computeBands, dispatchOrder } from '../../src/queue/fair-share.ts';
import { renderJob, testQueue, waitFor } from '../workers/fixtures/redis-test-env.ts';
import { startTestChat, type TestChat } from './helpers.ts';

/**
 * The queue dashboard (bull-board at /admin/queues) on the real web chat server, over real BullMQ
 * and Redis: it is off without a token, asks a browser for the token, shows the render queue, is
 * read-only unless told otherwise, and a job removed from it frees its owner's place in the cap and
 * the bands behind it at once (the bot settles fair share on BullMQ's 'removed' event).
 */

const TOKEN = 'admin-token-0123456789abcdef';
const basic = (password: string, user = 'ops') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const bearer = (token: string) => `Bearer ${token}`;

const env = testQueue();
let queue: BullmqJobQueue;
const events: JobEvent[] = [];
let plain: TestChat;
let readOnly: TestChat;
let writable: TestChat;

function dashboard(write: boolean) {
  return { token: TOKEN, write, queues: () => [queue.dashboardQueue()] };
}

async function get(chat: TestChat, path: string, authorization?: string): Promise<Response> {
  return fetch(`${chat.chat.url}${path}`, { headers: authorization ? { authorization } : {} });
}

/** bull-board's own "remove job" call, as its page makes it. */
function removeJob(chat: TestChat, jobId: string, headers: Record<string, string> = { authorization: basic(TOKEN) }): Promise<Response> {
  return fetch(`${chat.chat.url}/admin/queues/api/queues/${env.queueName}/${jobId}/clean`, { method: 'PUT', headers });
}

beforeAll(async () => {
  queue = new BullmqJobQueue({ redis: env.redis, prefix: env.prefix, queueName: env.queueName, perPersonCap: 2, positionUpdates: false });
  queue.onEvent((event) => events.push(event));
  await queue.eventsReady();
  plain = await startTestChat();
  readOnly = await startTestChat({ adminQueues: dashboard(false) });
  writable = await startTestChat({ adminQueues: dashboard(true) });
});

afterAll(async () => {
  for (const chat of [plain, readOnly, writable]) await chat?.cleanup();
  await queue?.close();
  await env.cleanup();
});

describe('access', () => {
  it('is not there without a token', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await get(plain, path, basic(TOKEN));
      expect(res.status, path).toBe(404);
      expect((await res.json()).error.code).toBe('not_found');
    }
  });

  it('asks for the token without one or with a wrong one, in one sentence', async () => {
    for (const authorization of [undefined, basic('wrong-token-0123456789abcdef'), bearer('wrong'), basic(''), bearer(`${TOKEN}x`), `Digest ${TOKEN}`]) {
      const res = await get(readOnly, '/admin/queues/api/queues', authorization);
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="dailies admin"/);
      const body = await res.json();
      expect(body.error.message).toMatch(/^The queue dashboard needs the admin token \(DAILIES_ADMIN_TOKEN\) as the password\.$/);
    }
  });

  it('serves the page with Basic auth (any user name) under its own CSP, and its files', async () => {
    for (const authorization of [basic(TOKEN), basic(TOKEN, ''), basic(TOKEN, 'someone else')]) {
      const res = await get(readOnly, '/admin/queues', authorization);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      const html = await res.text();
      expect(html).toContain('<base href="/admin/queues/"');
      const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const file = await get(readOnly, `/admin/queues/${script}`, authorization);
      expect(file.status).toBe(200);
      expect((await file.text()).length).toBeGreaterThan(1000);
    }
    // The chat's own page keeps its stricter policy.
    const page = await get(readOnly, '/');
    expect(page.headers.get('content-security-policy')).toContain("style-src 'self';");
  });

  it('lists the render queue and its waiting job with Bearer auth', async () => {
    const job = renderJob({ userId: 'list-user', channelKey: 'local:list' });
    await queue.enqueue(job);
    try {
      const res = await get(readOnly, `/admin/queues/api/queues?activeQueue=${env.queueName}&status=prioritized&page=1&jobsPerPage=50`, bearer(TOKEN));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean; counts: Record<string, number>; jobs: { id: string }[] }[] };
      const renders = body.queues.find((q) => q.name === env.queueName);
      expect(renders).toBeDefined();
      expect(renders!.readOnlyMode).toBe(true);
      expect(renders!.counts.prioritized).toBeGreaterThanOrEqual(1);
      expect(renders!.jobs.map((j) => j.id)).toContain(job.jobId);
    } finally {
      await queue.cancel(job.jobId);
    }
  });
});

describe('changes', () => {
  it('refuses a removal when read-only, and leaves the job in line', async () => {
    const job = renderJob({ userId: 'ro-user', channelKey: 'local:ro' });
    await queue.enqueue(job);
    try {
      const res = await removeJob(readOnly, job.jobId);
      expect(res.status).toBe(405);
      expect((await res.json()).error.message).toBe('The queue dashboard is read-only; set DAILIES_ADMIN_WRITE=on to change jobs from it.');
      expect((await queue.status(job.jobId)).state).toBe('waiting');
    } finally {
      await queue.cancel(job.jobId);
    }
  });

  it('takes changes from its own page only, and never adds jobs', async () => {
    const job = renderJob({ userId: 'csrf-user', channelKey: 'local:csrf' });
    await queue.enqueue(job);
    try {
      const res = await removeJob(writable, job.jobId, { authorization: basic(TOKEN), origin: 'https://elsewhere.example' });
      expect(res.status).toBe(403);
      expect((await queue.status(job.jobId)).state).toBe('waiting');
      const add = await fetch(`${writable.chat.url}/admin/queues/api/queues/${env.queueName}/add`, {
        method: 'POST',
        headers: { authorization: basic(TOKEN), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'render', data: {} }),
      });
      expect(add.status).toBe(405);
      expect(await queue.dashboardQueue().count()).toBe(1);
    } finally {
      await queue.cancel(job.jobId);
    }
  });

  it('removes a waiting job in write mode, and fair share follows at once', async () => {
    // Channel X: Ana at her cap of 2, then Ben; channel Y: Cy twice. Bands: a1 1, c1 1, b1 2, c2 2, a2 3.
    const a1 = renderJob({ userId: 'ana', channelKey: 'local:x' });
    const a2 = renderJob({ userId: 'ana', channelKey: 'local:x' });
    const b1 = renderJob({ userId: 'ben', channelKey: 'local:x' });
    const c1 = renderJob({ userId: 'cy', channelKey: 'local:y' });
    const c2 = renderJob({ userId: 'cy', channelKey: 'local:y' });
    for (const job of [a1, a2, b1, c1, c2]) await queue.enqueue(job);
    const ids = (jobs: { jobId: string }[]) => jobs.map((j) => j.jobId);
    expect(ids(await queue.waitingOrder())).toEqual(ids([a1, c1, b1, c2, a2]));
    await expect(queue.enqueue(renderJob({ userId: 'ana', channelKey: 'local:x' }))).rejects.toMatchObject({ code: 'rate_limited' });

    const res = await removeJob(writable, a1.jobId, { authorization: basic(TOKEN), origin: writable.chat.url });
    expect(res.status).toBe(204);
    expect(await queue.dashboardQueue().getJob(a1.jobId)).toBeUndefined();

    // Ana's second job is her first now, ahead of Ben's in channel X (band 1, he gets 2), as the
    // reference computes it; with a1 still counted it would be [c1, b1, c2, a2].
    await waitFor(async () => (await queue.fair.outstanding('ana')).length === 1, 5_000, "Ana's removed job to be settled");
    const left = [a2, b1, c1, c2].map((j, i) => ({ jobId: j.jobId, userId: j.userId, channelKey: j.channelKey, seq: i }));
    expect(ids(dispatchOrder(left, computeBands(left)))).toEqual(ids([a2, c1, b1, c2]));
    expect(ids(await queue.waitingOrder())).toEqual(ids([a2, c1, b1, c2]));
    expect(await queue.status(a2.jobId)).toMatchObject({ state: 'waiting', position: 1 });
    expect(await queue.status(b1.jobId)).toMatchObject({ state: 'waiting', position: 3 });
    // What the person sees: the thread's job is cancelled.
    await waitFor(() => events.some((e) => e.type === 'cancelled' && e.jobId === a1.jobId), 5_000, 'the cancelled event');

    // Below her cap again, and her new job lines up as her second.
    const a3 = renderJob({ userId: 'ana', channelKey: 'local:x' });
    await queue.enqueue(a3);
    expect(ids(await queue.waitingOrder())).toEqual(ids([a2, c1, b1, c2, a3]));
    for (const job of [a2, b1, c1, c2, a3]) await queue.cancel(job.jobId);
  });

  it('clears a finished job without announcing a cancel', async () => {
    const done = renderJob({ userId: 'eve', channelKey: 'local:w' });
    const worker = new Worker(env.queueName, async () => ({ takes: [] }), { connection: env.redis, prefix: env.prefix });
    try {
      await queue.enqueue(done);
      await waitFor(() => events.some((e) => e.type === 'completed' && e.jobId === done.jobId), 10_000, 'the job to complete');
    } finally {
      await worker.close();
    }
    expect((await removeJob(writable, done.jobId)).status).toBe(204);
    // Events arrive in order: once the next removal's cancel is heard, the first removal's was handled.
    const waiting = renderJob({ userId: 'eve', channelKey: 'local:w' });
    await queue.enqueue(waiting);
    expect((await removeJob(writable, waiting.jobId)).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'cancelled' && e.jobId === waiting.jobId), 5_000, 'the cancelled event');
    expect(events.filter((e) => e.jobId === done.jobId && e.type === 'cancelled')).toEqual([]);
  });

  it('frees the cap even when no bot heard the removal', async () => {
    // A producer with no event stream, and the job removed straight through BullMQ.
    const deaf = new BullmqJobQueue({ redis: env.redis, prefix: env.prefix, queueName: `${env.queueName}-deaf`, perPersonCap: 1, positionUpdates: false });
    const other = new Queue(`${env.queueName}-deaf`, { connection: env.redis, prefix: env.prefix });
    try {
      const first = renderJob({ userId: 'dee', channelKey: 'local:z' });
      await deaf.enqueue(first);
      await expect(deaf.enqueue(renderJob({ userId: 'dee', channelKey: 'local:z' }))).rejects.toMatchObject({ code: 'rate_limited' });
      expect(await other.remove(first.jobId)).toBe(1);
      // Well within the reservation grace (60 s): the job had been added, so its missing hash means removed.
      const second = renderJob({ userId: 'dee', channelKey: 'local:z' });
      await expect(deaf.enqueue(second)).resolves.toMatchObject({ state: 'waiting', position: 1 });
      expect(await deaf.fair.outstanding('dee')).toEqual([second.jobId]);
    } finally {
      await other.close();
      await deaf.close();
    }
  });
});
