import { describe, expect, it } from 'vitest';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../../src/errors.ts';
import { MemorySessionStore } from '../../src/storage/memory-session-store.ts';
import { createPromptPolicy } from '../../src/safety/prompt-policy.ts';
import { MemoryRateLimiter } from '../../src/safety/rate-limit.ts';
import { alice, bob, startedHarnesses, mod, takes, type Harness } from './fakes/harness.ts';

type H = Harness;
const make = startedHarnesses();

async function started(h: H, prompt = 'a red ball bouncing'): Promise<ThreadRef> {
  const out = await h.core(h.command('video', { prompt, takes: 2 }));
  expect(out.error).toBeUndefined();
  await h.settle();
  return out.thread!;
}

async function finished(h: H, thread: ThreadRef): Promise<string> {
  await h.admission.idle();
  const job = h.queue.jobs.at(-1)!;
  h.queue.emit({ type: 'completed', jobId: job.jobId, takes: takes(job.request.takes, job.request.seed), timingsMs: {} });
  await h.settle(2000);
  expect(thread).toBeDefined();
  return job.jobId;
}

describe('dispatcher: commands', () => {
  it('/video opens a thread, stores v1 and enqueues a versioned job', async () => {
    const h = make();
    const out = await h.core(h.command('video', { prompt: '  a red   ball ', negative: 'blurry', takes: '2', steps: '12' }));
    expect(out).toEqual({ thread: { platform: 'local', channelId: 'c1', threadId: 't1' }, ephemeral: 'Started "a red ball" with 2 takes in a new thread.' });
    const session = await h.store.getByThread(out.thread!);
    expect(session).toMatchObject({ id: 's1', owner: { id: alice.id, name: 'Alice' }, current: 1, settings: { takes: 2, steps: 12 } });
    expect(session?.versions[0]).toMatchObject({ n: 1, prompt: 'a red ball', negativePrompt: 'blurry', seed: 1000, parent: null, change: 'first version' });
    await h.admission.idle();
    expect(h.queue.jobs).toEqual([
      {
        v: 1,
        jobId: 'j1',
        sessionId: 's1',
        version: 1,
        userId: alice.id,
        channelKey: 'local:c1',
        thread: out.thread,
        request: { prompt: 'a red ball', negativePrompt: 'blurry', seed: 1000, takes: 2, quality: 'draft', steps: 12 },
      },
    ]);
    expect(h.adapter.posts[0]!.message.text).toContain('Alice started a video: "a red ball"');
  });

  it('renders a retried command into the thread it opened when the bot died before the session was written', async () => {
    let h: Harness | undefined;
    const store = new MemorySessionStore({ now: () => h!.clock.now() });
    let dead = true;
    // The bot "dies" right after the platform made the thread: the session write and the event's
    // confirmation never happen, so the platform's retry comes once the short claim lapses.
    const dying = Object.assign(Object.create(store) as MemorySessionStore, {
      create: (input: Parameters<MemorySessionStore['create']>[0]) => (dead ? Promise.reject(new Error('killed')) : store.create(input)),
      confirmEvent: (id: string, ttl: number) => (dead ? Promise.resolve() : store.confirmEvent(id, ttl)),
    });
    h = make({ store: dying });
    const command = h.command('video', { prompt: 'a cat' });
    expect((await h.core(command)).error).toBeDefined();
    expect(h.adapter.threads).toHaveLength(1);
    dead = false;
    h.clock.advance(11_000);
    const retried = await h.core(command);
    expect(retried.error).toBeUndefined();
    expect(h.adapter.threads).toHaveLength(1);
    expect(retried.thread).toEqual(h.adapter.threads[0]);
    expect((await store.getByThread(retried.thread!))?.versions[0]?.prompt).toBe('a cat');
  });

  it('says what an empty /video needs, and how long a too long prompt was', async () => {
    const h = make();
    expect((await h.core(h.command('video', { prompt: '  ' }))).error?.message).toBe('prompt is empty; add one, e.g. "a red circle moving left on a black background".');
    expect((await h.core(h.command('video', { prompt: 'a'.repeat(1234) }))).error?.message).toBe('prompt is 1234 characters, over the 1000 limit; shorten it.');
    expect((await h.core(h.command('video', { prompt: 'a'.repeat(9000) }))).error?.message).toBe('prompt is 9000 characters, over the 1000 limit; shorten it.');
    expect(h.adapter.threads).toHaveLength(0);
  });

  it('handles the same platform event delivered twice once', async () => {
    const h = make();
    const event = h.command('video', { prompt: 'a cat' });
    const [a, b] = await Promise.all([h.core(event), h.core(event)]);
    await h.admission.idle();
    expect(h.queue.jobs).toHaveLength(1);
    expect(h.adapter.threads).toHaveLength(1);
    // The duplicate is answered with nothing, or with the thread its twin started.
    expect(new Set([a, b].flatMap((o) => (o.thread ? [o.thread.threadId] : [])))).toEqual(new Set([a.thread?.threadId ?? b.thread?.threadId]));
    expect(await h.core(event)).toEqual({ thread: a.thread ?? b.thread, ephemeral: 'That request was already taken: v1 (render) is queued in this thread.' });
  });

  it('answers a retry with the recorded job when the bot died before confirming the event', async () => {
    // eventTtlMs 1: the claim lapses as if the bot had died between the session write and the
    // confirmation; the platform's retry then runs the handler again.
    const h = make({ core: { config: { quorum: 3, voteWindowMs: 600_000, eventTtlMs: 1 } } });
    const command = h.command('video', { prompt: 'a cat' });
    const first = await h.core(command);
    h.clock.advance(10);
    const retried = await h.core(command);
    expect(retried).toEqual({ thread: first.thread, ephemeral: 'That request was already taken: v1 (render) is queued in this thread.' });
    const reply = h.reply(first.thread!, 'make it blue');
    expect((await h.core(reply)).error).toBeUndefined();
    expect((await h.store.getByThread(first.thread!))?.versions).toHaveLength(2);
    h.clock.advance(10);
    expect((await h.core(reply)).ephemeral).toBe('That request was already taken: v2 (render) is queued in this thread.');
    await h.admission.idle();
    expect(h.queue.jobs.map((j) => j.version)).toEqual([1, 2]);
    expect(h.adapter.threads).toHaveLength(1);
    expect((await h.store.getByThread(first.thread!))?.versions).toHaveLength(2);
  });

  it('refuses unknown commands, bad options and garbage events with one sentence, never throwing', async () => {
    const h = make();
    expect((await h.core(h.command('dance', {}))).error).toEqual({ code: 'bad_input', message: 'There is no /dance command; type /help to see the commands.' });
    expect((await h.core(h.command('video', { prompt: 'x', takes: 9 }))).error?.message).toBe('takes must be a whole number from 1 to 4.');
    expect((await h.core(h.command('video', { prompt: 'x', frames: 10, duration: 2 }))).error?.message).toBe('Give either frames or duration, not both.');
    expect((await h.core(null as never)).error?.code).toBe('bad_input');
    expect((await h.core({ id: 'x', kind: 'nope', platform: 'local', user: alice, receivedAt: 0 } as never)).error?.code).toBe('bad_input');
    await h.admission.idle();
    expect(h.queue.jobs).toHaveLength(0);
  });

  it('refuses a blocked prompt with the policy sentence before opening a thread', async () => {
    const h = make({ core: { policy: createPromptPolicy({ blockedTerms: ['gore'] }) } });
    const out = await h.core(h.command('video', { prompt: 'lots of G0RE' }));
    expect(out.error).toEqual({ code: 'policy_refused', message: 'Your prompt was refused because it mentions "gore", which this server does not allow; rephrase it without that term.' });
    expect(out.ephemeral).toBe(out.error?.message);
    expect(h.adapter.threads).toHaveLength(0);
  });

  it('rate-limits renders per person, before anything is created', async () => {
    const h = make({ core: { rateLimiter: new MemoryRateLimiter({ capacity: 1, refillPerSecond: 1 / 60 }, () => 0) } });
    await started(h);
    const out = await h.core(h.command('video', { prompt: 'another' }));
    expect(out.error).toEqual({ code: 'rate_limited', message: 'You are starting renders faster than this server allows; try again in 60 s.' });
    expect(h.adapter.threads).toHaveLength(1);
    const other = await h.core(h.command('video', { prompt: 'another' }, bob));
    expect(other.error).toBeUndefined();
  });

  it('answers before the queue has the job; a refusal by the queue shows in the thread', async () => {
    const h = make();
    h.queue.refuse = new DailiesError('rate_limited', 'You already have 3 renders waiting; wait for one to finish.');
    const out = await h.core(h.command('video', { prompt: 'a cat' }));
    expect(out.error).toBeUndefined();
    expect(h.queue.jobs).toHaveLength(0);
    expect(await h.store.awaitingAdmission(Number.POSITIVE_INFINITY)).toEqual([{ sessionId: 's1', jobId: 'j1' }]);
    await h.settle(2000);
    expect((await h.store.get('s1'))?.jobs[0]).toMatchObject({ state: 'failed', error: { code: 'rate_limited' } });
    expect(await h.store.awaitingAdmission(Number.POSITIVE_INFINITY)).toEqual([]);
    const progress = h.adapter.postsIn(out.thread!).find((p) => p.message.text.includes('v1'))!;
    expect(h.adapter.latest(progress).text).toContain('Failed: You already have 3 renders waiting');
  });

  it('/video inside a session thread makes the next version there', async () => {
    const h = make();
    const thread = await started(h);
    const out = await h.core(h.command('video', { prompt: 'a blue cube' }, bob, thread));
    expect(out.error).toBeUndefined();
    expect(h.adapter.threads).toHaveLength(1);
    const s = await h.store.get('s1');
    expect(s?.versions[1]).toMatchObject({ n: 2, prompt: 'a blue cube', parent: 1, author: { id: bob.id } });
  });

  it('/status, /history and /help answer privately; session commands outside a thread explain where to use them', async () => {
    const h = make();
    const thread = await started(h);
    expect((await h.core(h.command('status', {}, alice, thread))).ephemeral).toBe('v1 (2 takes): number 1 in line, about 30 s.');
    await h.core(h.reply(thread, 'at night'));
    const history = (await h.core(h.command('history', {}, bob, thread))).ephemeral!;
    expect(history).toContain("▶ v2 (from v1, Alice): added 'at night'");
    expect((await h.core(h.command('help', {}))).ephemeral).toContain('/finalize');
    expect((await h.core(h.command('status', {}))).error?.message).toBe('Use /status inside a session thread (the thread /video or /storyboard opens); there is no session here.');
  });
});

describe('dispatcher: replies', () => {
  it('a plain reply revises the prompt into a new version and renders it', async () => {
    const h = make();
    const thread = await started(h);
    const out = await h.core(h.reply(thread, 'on a blue background', bob));
    expect(out).toEqual({ thread });
    const s = await h.store.get('s1');
    expect(s?.versions[1]).toMatchObject({ n: 2, parent: 1, prompt: 'a red ball bouncing, on a blue background', change: "added 'on a blue background'", author: { id: bob.id, name: 'Bob' } });
    await h.admission.idle();
    expect(h.queue.jobs[1]).toMatchObject({ version: 2, userId: bob.id, request: { prompt: 'a red ball bouncing, on a blue background', seed: 1000 } });
  });

  it('branches, re-rolls and sets seeds', async () => {
    const h = make();
    const thread = await started(h);
    await h.core(h.reply(thread, 'blue ball'));
    await h.core(h.reply(thread, 'from v1: seed: 5'));
    await h.core(h.reply(thread, 'again'));
    const s = (await h.store.get('s1'))!;
    expect(s.versions.map((v) => [v.n, v.parent, v.seed, v.change])).toEqual([
      [1, null, 1000, 'first version'],
      [2, 1, 1000, "'red ball' -> 'blue ball'"],
      [3, 1, 5, 'from v1; seed 1000 -> 5'],
      [4, 3, 1007, 'seed 5 -> 1007 (again)'],
    ]);
    await h.admission.idle();
    expect(h.queue.jobs.map((j) => j.request.seed)).toEqual([1000, 1000, 5, 1007]);
  });

  it('answers a bad reply to its author only, and renders nothing', async () => {
    const h = make();
    const thread = await started(h);
    const posts = h.adapter.postsIn(thread).length;
    const out = await h.core(h.reply(thread, 'seed: -4', bob));
    expect(out.error).toEqual({ code: 'bad_input', message: 'seed: must be a whole number from 0 to 2147483647, or random.' });
    expect(out.ephemeral).toBe('seed: must be a whole number from 0 to 2147483647, or random.');
    expect(h.adapter.postsIn(thread)).toHaveLength(posts);
    await h.admission.idle();
    expect(h.queue.jobs).toHaveLength(1);
  });

  it('answers help and takes confirmations to the author; takes applies to later renders', async () => {
    const h = make();
    const thread = await started(h);
    expect((await h.core(h.reply(thread, 'help'))).ephemeral).toContain('Commands:');
    expect((await h.core(h.reply(thread, 'takes: 4'))).ephemeral).toBe('From now on, renders in this session make 4 takes.');
    await h.core(h.reply(thread, 'again'));
    await h.admission.idle();
    expect(h.queue.jobs.at(-1)?.request.takes).toBe(4);
  });

  it('ignores replies outside session threads and empty replies (no message-content access)', async () => {
    const h = make();
    const thread = await started(h);
    const posts = h.adapter.posts.length;
    expect(await h.core(h.reply({ ...thread, threadId: 'elsewhere' }, 'hello'))).toEqual({});
    expect(await h.core(h.reply(thread, ''))).toEqual({});
    expect(h.adapter.posts).toHaveLength(posts);
    await h.admission.idle();
    expect(h.queue.jobs).toHaveLength(1);
  });

  it('refuses a revision that the policy blocks, to its author', async () => {
    const h = make({ core: { policy: createPromptPolicy({ blockedTerms: ['blood'] }) } });
    const thread = await started(h);
    const out = await h.core(h.reply(thread, 'covered in b1ood', bob));
    expect(out.error?.code).toBe('policy_refused');
    expect(out.ephemeral).toBe('Your prompt was refused because it mentions "blood", which this server does not allow; rephrase it without that term.');
    expect((await h.store.get('s1'))?.versions).toHaveLength(1);
  });
});

describe('dispatcher: buttons and permissions', () => {
  it('counts one vote per person, lets them change it, and the winner seeds the next version', async () => {
    const h = make();
    const thread = await started(h);
    await finished(h, thread);
    expect((await h.core(h.action(thread, 'vote:s1:1:0', bob))).ephemeral).toBe('You voted for take 1 of v1.');
    expect((await h.core(h.action(thread, 'vote:s1:1:1', bob))).ephemeral).toBe('Your vote on v1 moved from take 1 to take 2.');
    expect((await h.store.get('s1'))?.rounds[0]?.votes).toEqual({ [bob.id]: 1 });
    const pick = await h.core(h.action(thread, 'pick:s1:1:1', alice));
    expect(pick.ephemeral).toBe('You picked take 2; it is the base of the next version.');
    await h.core(h.reply(thread, 'at night', bob));
    const v2 = (await h.store.get('s1'))?.versions[1];
    expect(v2).toMatchObject({ parent: 1, seed: 1001, change: "take 2 of v1 (seed 1000 -> 1001); added 'at night'" });
  });

  it('only the owner or a moderator may pick, finalize or cancel', async () => {
    const h = make();
    const thread = await started(h);
    const jobId = await finished(h, thread);
    for (const action of ['pick:s1:1:0', `finalize:s1:${jobId}:0`]) {
      const out = await h.core(h.action(thread, action, bob));
      expect(out.error?.code).toBe('forbidden');
      expect(out.ephemeral).toMatch(/^Only the session owner \(Alice\) or a moderator can (close the vote|finalize takes); ask them, or start your own session with \/video\.$/);
    }
    expect((await h.core(h.command('cancel', {}, bob, thread))).error?.code).toBe('forbidden');
    expect((await h.core(h.action(thread, `finalize:s1:${jobId}:0`, mod))).error).toBeUndefined();
    await h.admission.idle();
    expect(h.queue.jobs.at(-1)?.request.quality).toBe('final');
    expect((await h.core(h.action(thread, `finalize:s1:${jobId}:0`, alice))).error?.code).toBe('conflict');
    expect((await h.core(h.action(thread, 'pick:s1:1:1', mod))).error).toBeUndefined();
  });

  it('cancel stops a waiting job and records who cancelled it', async () => {
    const h = make();
    const thread = await started(h);
    const out = await h.core(h.action(thread, 'cancel:j1', alice));
    expect(out.ephemeral).toBe('Cancelled 1 render.');
    expect(h.queue.cancelled).toEqual(['j1']);
    expect((await h.store.get('s1'))?.jobs[0]).toMatchObject({ state: 'cancelled', cancelledBy: { id: alice.id } });
    await h.settle(2000);
    const progress = h.adapter.postsIn(thread).find((p) => p.message.text.includes('2 takes · v1'))!;
    expect(h.adapter.latest(progress).text).toContain('Cancelled by Alice.');
    expect((await h.core(h.action(thread, 'cancel:j1', alice))).ephemeral).toBe('That render has already finished; nothing to cancel.');
  });

  it('reroll, vary and extend render from the takes', async () => {
    const h = make();
    const thread = await started(h);
    const jobId = await finished(h, thread);
    await h.core(h.action(thread, 'reroll:s1', bob));
    await h.admission.idle();
    expect(h.queue.jobs.at(-1)?.request).toMatchObject({ prompt: 'a red ball bouncing', seed: 1007 });
    await h.core(h.action(thread, `vary:s1:${jobId}:1`, bob));
    await h.admission.idle();
    expect(h.queue.jobs.at(-1)?.request).toMatchObject({ seed: 1014, image: { artifact: { key: 'p1.png' }, strength: 0.6 } });
    await h.core(h.action(thread, `extend:s1:${jobId}:0`, bob));
    await h.admission.idle();
    expect(h.queue.jobs.at(-1)?.request).toMatchObject({ seed: 1000, frames: 16, extend: { artifact: { key: 'v0.mp4' }, overlap: 4, direction: 'forward' } });
    const s = (await h.store.get('s1'))!;
    // An extension is a new version whose parent is the extended take's version.
    expect(s.versions.map((v) => v.change)).toEqual(['first version', 'seed 1000 -> 1007 (again)', 'variations of take 2 of v1 (seed 1001 -> 1014)', 'v1#1 extended forward by 2 s']);
    expect(s.versions.at(-1)?.parent).toBe(1);
    expect(s.jobs.map((j) => j.kind)).toEqual(['render', 'render', 'vary', 'extend']);
  });

  it('edit-prompt opens a pre-filled form and its submission makes a version', async () => {
    const h = make();
    const thread = await started(h);
    const form = await h.core(h.action(thread, 'edit-prompt:s1', bob));
    expect(form.openForm).toEqual({
      action: 'edit-prompt-submit:s1',
      title: 'Edit the prompt (v1)',
      fields: [
        { id: 'prompt', label: 'Prompt', value: 'a red ball bouncing', multiline: true },
        { id: 'negative', label: 'Avoid (negative prompt)', value: '', multiline: true },
      ],
    });
    const out = await h.core(h.action(thread, 'edit-prompt-submit:s1', bob, { prompt: 'a green ball', negative: 'text' }));
    expect(out.error).toBeUndefined();
    expect((await h.store.get('s1'))?.versions[1]).toMatchObject({ prompt: 'a green ball', negativePrompt: 'text' });
    expect((await h.core(h.action(thread, 'edit-prompt-submit:s1', bob, { prompt: '' }))).error?.message).toBe('prompt must be text of 1 to 1000 characters.');
  });

  it('closes a round found past its deadline before counting a vote', async () => {
    const h = make();
    const thread = await started(h);
    await finished(h, thread);
    await h.delivery.stop();
    h.clock.advance(600_001);
    const out = await h.core(h.action(thread, 'vote:s1:1:0', bob));
    expect(out.error?.code).toBe('conflict');
    expect(out.ephemeral).toBe('Voting on v1 has closed without a winner; the owner can still pick a take.');
    expect((await h.store.get('s1'))?.rounds[0]?.closed?.reason).toBe('deadline');
  });

  it('refuses malformed, unknown and cross-platform buttons', async () => {
    const h = make();
    const thread = await started(h);
    expect((await h.core(h.action(thread, 'vote:s1', bob))).error?.code).toBe('bad_input');
    expect((await h.core(h.action(thread, 'vote:nope:1:0', bob))).error?.code).toBe('not_found');
    const foreign = h.action(thread, 'reroll:s1', bob);
    expect((await h.core({ ...foreign, platform: 'discord' })).error?.code).toBe('not_found');
    expect((await h.core(h.action(thread, 'vote:s1:7:0', bob))).error?.code).toBe('not_found');
  });
});
