import { afterEach, describe, expect, it } from 'vitest';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { createDelivery } from '../../src/core/delivery.ts';
import { createReconciliation } from '../../src/core/reconciliation.ts';
import { harness, quietLog, takes, startVideo } from './fakes/harness.ts';

type H = ReturnType<typeof harness>;
let current: H | null = null;
const stops: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await current?.delivery.stop();
  current = null;
});

/** A second bot process over the same store, queue and chat: what a restart brings up. */
function restartedBot(h: H) {
  const delivery = createDelivery({
    store: h.store,
    queue: h.queue,
    adapters: [h.adapter],
    artifacts: { publicUrl: (r) => r.key },
    clock: h.clock,
    log: quietLog,
    config: { quorum: 3, voteWindowMs: 600_000 },
  });
  const reconciliation = createReconciliation({ store: h.store, queue: h.queue, delivery, clock: h.clock, log: quietLog });
  stops.push(() => reconciliation.stop(), () => delivery.stop());
  return { delivery, reconciliation };
}

const takePosts = (h: H, thread: ThreadRef) => h.adapter.postsIn(thread).filter((p) => p.message.text.startsWith('Take '));

describe('reconciliation', () => {
  it('posts the takes of a job that finished while no bot was listening, once', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    await h.delivery.stop();
    h.queue.endUnheard({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    h.clock.advance(10_000);

    const bot = restartedBot(h);
    bot.delivery.start();
    expect(await bot.reconciliation.sweep()).toBe(1);
    await bot.delivery.idle();
    h.clock.advance(2000);
    await bot.delivery.idle();
    expect(takePosts(h, thread)).toHaveLength(2);
    expect((await h.store.get('s1'))!.jobs[0]).toMatchObject({ state: 'done' });
    expect(await h.store.undelivered()).toEqual([]);

    // Nothing left to do, however often it looks.
    expect(await bot.reconciliation.sweep()).toBe(0);
    expect(takePosts(h, thread)).toHaveLength(2);
  });

  it('shows a failure that happened while no bot was listening in the progress message', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    await h.delivery.stop();
    h.queue.endUnheard({ type: 'failed', jobId, error: { code: 'internal', message: 'The model crashed.' }, willRetry: false });
    h.clock.advance(10_000);

    const bot = restartedBot(h);
    expect(await bot.reconciliation.sweep()).toBe(1);
    await bot.delivery.idle();
    h.clock.advance(2000);
    await bot.delivery.idle();
    const before = h.adapter.postsIn(thread).length;
    expect(h.adapter.postsIn(thread).map((p) => h.adapter.latest(p).text).filter((t) => t.includes('The model crashed.'))).toHaveLength(1);
    expect(await bot.reconciliation.sweep()).toBe(0);
    expect(h.adapter.postsIn(thread)).toHaveLength(before);
    expect(await h.store.undelivered()).toEqual([]);
  });

  it('finishes a delivery a crash cut short, after the dead poster’s claim runs out, posting nothing twice', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    // A bot that died while uploading take 2: its claim is held and nothing was recorded.
    await h.store.claimPost({ scope: jobId, kind: 'take', index: 1 });
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    expect(takePosts(h, thread).map((p) => p.message.text.split(' ·')[0])).toEqual(['Take 1 of v1']);
    // Not delivered: a take is missing.
    expect(await h.store.undelivered()).toEqual([{ sessionId: 's1', jobId }]);

    const bot = restartedBot(h);
    h.clock.advance(60_000);
    await bot.reconciliation.sweep();
    await bot.delivery.idle();
    expect(takePosts(h, thread)).toHaveLength(1);

    h.clock.advance(61_000); // past the 2-minute lease
    await bot.reconciliation.sweep();
    await bot.delivery.idle();
    h.clock.advance(2000);
    await bot.delivery.idle();
    expect(takePosts(h, thread).map((p) => p.message.text.split(' ·')[0])).toEqual(['Take 1 of v1', 'Take 2 of v1']);
    expect(await h.store.undelivered()).toEqual([]);
  });

  it('leaves jobs that are still waiting or running alone, and fails one the queue never heard of', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    const bot = restartedBot(h);
    h.clock.advance(60_000);
    expect(await bot.reconciliation.sweep()).toBe(0);

    // The queue lost its data (Redis reset without persistence): after admission's own retries
    // are long over, the thread says so instead of waiting forever.
    (h.queue as unknown as { states: Map<string, unknown> }).states.delete(jobId);
    h.clock.advance(60_000);
    expect(await bot.reconciliation.sweep()).toBe(0);
    h.clock.advance(15 * 60_000);
    expect(await bot.reconciliation.sweep()).toBe(1);
    await bot.delivery.idle();
    h.clock.advance(2000);
    await bot.delivery.idle();
    expect(h.adapter.postsIn(thread).map((p) => h.adapter.latest(p).text).filter((t) => t.includes('lost this render'))).toHaveLength(1);
    expect((await h.store.get('s1'))!.jobs[0]).toMatchObject({ state: 'failed' });
  });

  it('announces a round that closed while its result could not be posted', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    await h.delivery.stop();
    // Closed by a bot that died before announcing it (or had no adapter up yet).
    h.clock.advance(700_000);
    await h.store.closeExpired('s1');
    expect(await h.store.dueRounds(h.clock.now())).toEqual([{ sessionId: 's1', roundId: 1 }]);

    const bot = restartedBot(h);
    bot.delivery.start();
    await bot.delivery.idle();
    h.clock.advance(2000);
    await bot.delivery.idle();
    const results = h.adapter.postsIn(thread).filter((p) => p.message.text.includes('closed with no votes'));
    expect(results).toHaveLength(1);
    expect(await h.store.dueRounds(h.clock.now() + 3_600_000)).toEqual([]);
    await bot.delivery.sweepRounds();
    await bot.delivery.idle();
    expect(h.adapter.postsIn(thread).filter((p) => p.message.text.includes('closed with no votes'))).toHaveLength(1);
  });
});
