import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, getJson, postJson, startStack, waitFor, type Stack } from './stack.ts';
import { parsePrometheusText, valueOf } from '../metrics/prometheus-text.ts';

/**
 * The real stack (`dailies start` as a child process: web chat, core, Redis sessions, BullMQ, a
 * threaded worker on the built-in model) driven only through the web chat's JSON API, as a
 * script or another front end would: retried deliveries, refused input, the in-thread commands
 * and cancelling a render while the worker is in the middle of it.
 */

// One render of the built-in model with a few steps takes seconds; training in the background can
// make it much slower, so waits on renders are long and on plain requests short.
const RENDER_MS = 120_000;

let stack: Stack;
let redis: Redis;

beforeAll(async () => {
  stack = await startStack();
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}, 180_000);

afterAll(async () => {
  redis?.disconnect();
  await stack?.cleanup();
}, 60_000);

interface SessionSummary {
  id: string;
  owner: string;
  current: number;
  versions: { n: number; prompt: string; author: string; change: string }[];
  jobs: { jobId: string; version: number; kind: string; state: string; takes: number; error: string | null }[];
}

interface ThreadMessage {
  id: string;
  text: string;
  root: boolean;
  thread: string;
  attachments: { kind: string; url: string }[];
}

const api = (path: string) => `${stack.url}${path}`;
const command = (body: Record<string, unknown>) => postJson(api('/api/commands'), { channel: 'general', ...body });
const inThread = (thread: string, user: string, text: string) => postJson(api('/api/commands'), { thread, user, text });

async function session(thread: string): Promise<SessionSummary> {
  const { status, body } = await getJson(api(`/api/threads/${thread}/session`));
  expect(status).toBe(200);
  return body.session as SessionSummary;
}

async function messages(thread: string): Promise<ThreadMessage[]> {
  return (await getJson(api(`/api/threads/${thread}`))).body.messages as ThreadMessage[];
}

async function rootsInGeneral(): Promise<ThreadMessage[]> {
  return (await getJson(api('/api/channels/general'))).body.messages as ThreadMessage[];
}

/** Waits until the session's job `n` (0-based) is in one of `states`. */
function jobIn(thread: string, n: number, states: string[], timeoutMs = RENDER_MS) {
  return waitFor(`job ${n} of ${thread} to be ${states.join('/')}`, async () => {
    const job = (await session(thread)).jobs[n];
    return job && states.includes(job.state) ? job : undefined;
  }, timeoutMs, 250);
}

/** One sentence for a person: one line, ending in a full stop, with no second sentence. */
function expectOneSentence(message: unknown) {
  expect(typeof message).toBe('string');
  const text = message as string;
  expect(text.length).toBeGreaterThan(10);
  expect(text.length).toBeLessThan(300);
  expect(text).not.toContain('\n');
  expect(text).toMatch(/[.!?]$/);
  expect(text.slice(0, -1)).not.toMatch(/[.!?]\s+[A-Z]/);
}

it('serves health and the core\'s command list', async () => {
  const health = await getJson(api('/api/health'));
  expect(health).toEqual({ status: 200, body: expect.objectContaining({ ok: true, platform: 'local', running: true, redis: 'ok' }) });
  const help = await getJson(api('/api/commands/help'));
  const video = (help.body.commands as { name: string; options: { name: string; type: string }[] }[]).find((c) => c.name === 'video');
  expect(video?.options).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'prompt', type: 'string' }), expect.objectContaining({ name: 'takes', type: 'integer' })]));
});

describe('a session over the API', () => {
  let thread: string;

  it('turns the same command delivered twice with the same id into one session and one job', { timeout: 60_000 }, async () => {
    const before = (await rootsInGeneral()).length;
    const body = { id: 'retry-of-one-command', user: 'Dee', name: 'video', options: { prompt: 'a green square moving up on a white background', takes: 1, steps: 2 } };
    // A client that timed out and retried while the first request was still in flight, then once more later.
    const [first, second] = await Promise.all([command(body), command(body)]);
    const third = await command(body);
    for (const res of [first, second, third]) expect(res.status).toBe(200);
    thread = first.body.thread as string;
    expect(thread).toMatch(/^t_/);
    expect(second.body).toEqual(first.body);
    expect(third.body).toEqual(first.body);

    const s = await session(thread);
    expect(s.owner).toBe('Dee');
    expect(s.versions).toHaveLength(1);
    expect(s.jobs).toHaveLength(1);
    expect((await rootsInGeneral()).length).toBe(before + 1);
    // The BullMQ job exists once, under the session's job id.
    const bullJobs = await redis.keys(`${stack.prefix}:renders.shapes-v2:${s.jobs[0]!.jobId}*`);
    expect(bullJobs.length).toBeGreaterThan(0);
    await jobIn(thread, 0, ['done']);
    // The job is done in the store before delivery has posted its take: wait for the post.
    const texts = await waitFor('the take to be posted', async () => {
      const now = (await messages(thread)).map((m) => m.text);
      return now.some((t) => t.startsWith('Take 1 of v1')) ? now : undefined;
    }, 30_000, 100);
    expect(texts.filter((t) => t.startsWith('1 take · v1'))).toHaveLength(1);
    expect(texts.filter((t) => t.startsWith('Take 1 of v1'))).toHaveLength(1);
  });

  it('answers /status and /history in the thread, and lists a refinement in the history', { timeout: 60_000 }, async () => {
    const status = await inThread(thread, 'Dee', '/status');
    expect(status.status).toBe(200);
    expect(status.body.ephemeral).toBe('Nothing is rendering; the last render (v1) is done.');

    const reply = await postJson(api(`/api/threads/${thread}/messages`), { user: 'Gus', text: 'moving down' });
    expect(reply.status).toBe(200);
    expect(reply.body.error).toBeUndefined();
    const v2 = await jobIn(thread, 1, ['queued', 'rendering', 'previewed', 'done']);
    expect(v2.version).toBe(2);

    const history = await inThread(thread, 'Ben', '/history');
    expect(history.status).toBe(200);
    const text = history.body.ephemeral as string;
    expect(text).toContain('Versions of this session (▶ current):');
    expect(text).toContain('  v1 (new, Dee): first version\n    "a green square moving up on a white background"');
    expect(text).toContain(`▶ v2 (from v1, Gus): motion 'moving up' -> 'moving down'\n    "a green square moving down on a white background"`);
    await jobIn(thread, 1, ['done']);
  });
});

it('lists the models the workers serve, from their heartbeats, and renders with one named', { timeout: 60_000 }, async () => {
  const models = await command({ user: 'Gus', name: 'models', options: {} });
  expect(models.status).toBe(200);
  expect(models.body.ephemeral).toMatch(/^Models you can render with .*\n• shapes-v2 \(default\): 1 worker, \d+ waiting, /);
  const named = await command({ user: 'Gus', text: '/video a red circle model:Shapes-V2 takes:1 steps:1' });
  expect(named.status).toBe(200);
  expect(named.body.ephemeral).toBe('Started "a red circle" with 1 take on shapes-v2 in a new thread.');
});

it('refuses bad options with one sentence, creates nothing, and keeps serving', { timeout: 60_000 }, async () => {
  const before = (await rootsInGeneral()).length;
  const cases: [string, Record<string, unknown>, string][] = [
    ['takes: 9', { name: 'video', options: { prompt: 'a blue circle', takes: 9 } }, 'takes must be a whole number from 1 to 4.'],
    ['a 1001-character prompt', { name: 'video', options: { prompt: 'a'.repeat(1001) } }, 'prompt is 1001 characters, over the 1000 limit; shorten it.'],
    ['a number as the prompt', { name: 'video', options: { prompt: 42 } }, 'prompt must be text of 1 to 1000 characters.'],
    ['takes:9 typed on the line', { text: '/video a blue circle takes:9' }, 'takes must be a whole number from 1 to 4.'],
    ['a model no worker serves', { text: '/video a blue circle model:sora' }, 'No worker renders with "sora"; /models lists the models you can use.'],
  ];
  for (const [what, body, message] of cases) {
    const res = await command({ user: 'Eve', ...body });
    expect([400, 422], what).toContain(res.status);
    expect(res.body.error, what).toEqual({ code: 'bad_input', message });
    expectOneSentence(res.body.error.message);
    expect(res.body.thread, what).toBeUndefined();
  }
  expect((await rootsInGeneral()).length).toBe(before);

  expect(stack.child.exitCode).toBeNull();
  expect((await getJson(api('/api/health'))).status).toBe(200);
  // Refusals cost Eve nothing: her next, valid command is accepted.
  const ok = await command({ user: 'Eve', text: '/video a blue circle growing takes:1 steps:1' });
  expect(ok.status).toBe(200);
  expect(ok.body.thread).toMatch(/^t_/);
  expect(stack.log()).not.toMatch(/request failed|handler failed|Unhandled|TypeError/);
});

it('serves /metrics as Prometheus text that counts the renders, acks and refusals above', { timeout: 60_000 }, async () => {
  const res = await fetch(api('/metrics'));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = parsePrometheusText(await res.text());
  // The worker in `dailies start` rendered the two versions of the session above.
  expect(valueOf(samples, 'dailies_render_seconds_count', { model: 'shapes-v2', outcome: 'completed' })).toBeGreaterThanOrEqual(2);
  expect(valueOf(samples, 'bullmq_job_completed_total', { model: 'shapes-v2' })).toBeGreaterThanOrEqual(2);
  expect(valueOf(samples, 'dailies_live_worker_slots', { model: 'shapes-v2' })).toBe(1);
  expect(valueOf(samples, 'dailies_refusals_total', { platform: 'local', reason: 'bad_input' })).toBeGreaterThanOrEqual(4);
  expect(valueOf(samples, 'dailies_ack_seconds_count', { platform: 'local' })).toBeGreaterThanOrEqual(8);
});

it('cancels a render while the worker runs it', { timeout: 180_000 }, async () => {
  // Long enough (4 takes x 60 steps) that the cancel lands mid-render even on an idle machine.
  const started = await command({ user: 'Cy', text: '/video a yellow triangle growing on a purple background takes:4 steps:60' });
  expect(started.status).toBe(200);
  const thread = started.body.thread as string;
  const job = await jobIn(thread, 0, ['rendering', 'previewed'], 2 * RENDER_MS);
  // In the denoising loop, not just picked up.
  await waitFor('a step of the render', async () => (await messages(thread)).some((m) => /step [1-9]\d*\/60/.test(m.text)), RENDER_MS, 250);

  const status = await inThread(thread, 'Cy', '/status');
  expect(status.body.ephemeral).toMatch(/^v1 \(4 takes\): rendering/);

  const refused = await inThread(thread, 'Ben', '/cancel');
  expect(refused.status).toBe(403);
  expect(refused.body.error).toEqual({ code: 'forbidden', message: 'Only the session owner (Cy) or a moderator can cancel renders; ask them, or start your own session with /video.' });

  const cancelledAt = Date.now();
  const cancel = await inThread(thread, 'Cy', '/cancel');
  expect(cancel.status).toBe(200);
  expect(cancel.body.ephemeral).toBe('Cancelled 1 render.');

  await jobIn(thread, 0, ['cancelled'], 60_000);
  await waitFor('the progress message to say who cancelled', async () => (await messages(thread)).find((m) => m.text.startsWith('4 takes · v1') && m.text.endsWith('Cancelled by Cy.')), 30_000, 250);
  // The worker let go of the job: BullMQ records it finished as cancelled, not completed.
  const bullKey = `${stack.prefix}:renders.shapes-v2:${job.jobId}`;
  const finishedOn = await waitFor('BullMQ to finish the job', async () => Number(await redis.hget(bullKey, 'finishedOn')) || undefined, 60_000, 250);
  expect(await redis.hget(bullKey, 'failedReason')).toContain('cancelled');
  expect(stack.log()).toContain(`${job.jobId} cancel requested`);
  console.log(`cancel -> worker released the job in ${finishedOn - cancelledAt} ms`);
  expect((await inThread(thread, 'Cy', '/status')).body.ephemeral).toBe('Nothing is rendering; the last render (v1) is cancelled.');

  // No takes were posted for it, and the worker is free for the next person.
  const settled = await messages(thread);
  expect(settled.filter((m) => m.attachments.some((a) => a.kind === 'final'))).toEqual([]);
  const next = await command({ user: 'Fay', text: '/video a red square still on a black background takes:1 steps:1' });
  expect(next.status).toBe(200);
  await jobIn(next.body.thread as string, 0, ['done'], RENDER_MS);
  // Nothing of the cancelled render trickled in afterwards (a late preview or take).
  expect((await messages(thread)).map((m) => m.id)).toEqual(settled.map((m) => m.id));
});
