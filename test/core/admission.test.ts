import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../src/core/admission.ts';
import { MemorySessionStore } from '../../src/storage/memory-session-store.ts';
import { FakeJobQueue } from './fakes/fake-queue.ts';
import { DailiesError } from '../../src/errors.ts';
import { alice, bob, harness, quietLog } from './fakes/harness.ts';
import { ManualClock } from './fakes/manual-clock.ts';

/**
 * Admission hands recorded jobs to the queue after the answer. These tests pin what that order
 * must not cost: a cancel that beats the queue still cancels, and a job whose bot died between
 * recording and queueing it is queued by the next sweep, once.
 */

describe('admission', () => {
  it('keeps a cancel that arrives before the queue has the job', async () => {
    const h = harness();
    h.delivery.start();
    const out = await h.core(h.command('video', { prompt: 'a red ball bouncing', takes: 2 }));
    // The memory store answers within microtasks, so the cancel lands before admission's turn.
    const cancel = await h.core(h.action(out.thread!, 'cancel:j1', alice));
    expect(h.queue.jobs).toHaveLength(0);
    expect(cancel.ephemeral).toBe('Cancelled 1 render.');
    expect((await h.store.get('s1'))?.jobs[0]).toMatchObject({ state: 'cancelled', cancelledBy: { id: alice.id } });
    await h.settle(2000);
    // The queue got it and was told at once to drop it.
    expect(h.queue.cancelled).toEqual(['j1']);
    expect((await h.queue.status('j1')).state).toBe('cancelled');
    const progress = h.adapter.postsIn(out.thread!).find((p) => p.message.text.includes('2 takes · v1'))!;
    expect(h.adapter.latest(progress).text).toContain('Cancelled by Alice.');
  });

  it('says a job is joining the queue between the answer and admission', async () => {
    const h = harness();
    const out = await h.core(h.command('video', { prompt: 'a red ball bouncing', takes: 2 }));
    expect((await h.core(h.command('status', {}, alice, out.thread))).ephemeral).toBe('v1 (2 takes): joining the queue.');
    await h.settle();
    expect((await h.core(h.command('status', {}, alice, out.thread))).ephemeral).toBe('v1 (2 takes): number 1 in line, about 30 s.');
  });

  it('queues, once, a job whose bot recorded it and died before the queue had it', async () => {
    const clock = new ManualClock();
    const store = new MemorySessionStore({ now: () => clock.now() });
    // The bot that dies: its core records sessions, its admission never runs.
    const dead = harness({ store, core: { admission: { submit: () => {} } } });
    const out = await dead.core(dead.command('video', { prompt: 'a red ball bouncing', negative: 'blur', takes: 3, steps: 12 }));
    expect(out.error).toBeUndefined();
    expect(dead.queue.jobs).toHaveLength(0);

    // The bot that takes over shares the store and the queue.
    const queue = new FakeJobQueue();
    const tracked: string[] = [];
    const admission = createAdmission({ store, queue, delivery: { track: async (jobId) => void tracked.push(jobId) }, clock, log: quietLog, graceMs: 20_000 });
    expect(await admission.sweep()).toBe(0); // still inside its grace: its own bot may be admitting it
    clock.advance(20_000);
    expect(await admission.sweep()).toBe(1);
    await admission.idle();
    expect(queue.jobs).toEqual([
      {
        v: 1,
        jobId: 'j1',
        sessionId: 's1',
        version: 1,
        userId: alice.id,
        channelKey: 'local:c1',
        thread: out.thread,
        request: { prompt: 'a red ball bouncing', negativePrompt: 'blur', seed: 1000, takes: 3, quality: 'draft', steps: 12 },
      },
    ]);
    expect(tracked).toEqual(['j1']);
    expect(await admission.sweep()).toBe(0);
    expect(queue.jobs).toHaveLength(1);
  });

  it('retries a job the queue could not be reached for, and gives up after giveUpMs', async () => {
    const h = harness({ admission: { graceMs: 20_000, giveUpMs: 600_000 } });
    const down = new DailiesError('unavailable', 'The render queue is not reachable right now; try again in a minute.', { retryable: true });
    h.queue.refuse = down;
    const first = await h.core(h.command('video', { prompt: 'a red ball bouncing' }));
    expect(first.error).toBeUndefined();
    await h.settle();
    expect((await h.store.get('s1'))?.jobs[0]?.state).toBe('queued');
    h.queue.refuse = null;
    h.clock.advance(20_000);
    expect(await h.admission.sweep()).toBe(1);
    await h.settle();
    expect(h.queue.jobs.map((j) => j.jobId)).toEqual(['j1']);
    expect(await h.store.awaitingAdmission(Number.POSITIVE_INFINITY)).toEqual([]);

    // A queue that stays away: the job fails once it is giveUpMs old, and says why.
    h.queue.refuse = down;
    const second = await h.core(h.command('video', { prompt: 'a cat' }, bob));
    await h.settle();
    h.clock.advance(600_000);
    expect(await h.admission.sweep()).toBe(1);
    await h.settle(2000);
    expect((await h.store.get('s2'))?.jobs[0]).toMatchObject({ state: 'failed', error: { code: 'unavailable' } });
    const progress = h.adapter.postsIn(second.thread!).find((p) => p.message.text.includes('v1'))!;
    expect(h.adapter.latest(progress).text).toContain('Failed: The render queue is not reachable right now');
  });

  it('leaves alone jobs that left the queue line some other way', async () => {
    const clock = new ManualClock();
    const store = new MemorySessionStore({ now: () => clock.now() });
    const dead = harness({ store, core: { admission: { submit: () => {} } } });
    await dead.core(dead.command('video', { prompt: 'a cat' }));
    await store.transitionJob('j1', 'failed', { error: { code: 'internal', message: 'x' } });
    const queue = new FakeJobQueue();
    const admission = createAdmission({ store, queue, delivery: { track: async () => {} }, clock, log: quietLog, graceMs: 0 });
    expect(await admission.sweep()).toBe(0);
    expect(queue.jobs).toHaveLength(0);
  });

  it('answers a burst first and queues it in arrival order', async () => {
    const h = harness();
    const order: string[] = [];
    const enqueue = h.queue.enqueue.bind(h.queue);
    h.queue.enqueue = async (job) => {
      order.push(job.jobId);
      return enqueue(job);
    };
    const outs = await Promise.all(Array.from({ length: 40 }, (_, i) => h.core(h.command('video', { prompt: `ball ${i}` }, { id: `u${i}`, name: `U${i}` }))));
    expect(outs.filter((o) => o.error)).toEqual([]);
    // Every answer is in before any job reached the queue.
    expect(order).toEqual([]);
    await h.admission.idle();
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => `j${i + 1}`));
  });
});
