import { describe, expect, it } from 'vitest';
import { MemoryDailyQuota } from '../../src/safety/daily-quota.ts';
import { renderQuota } from '../../src/safety/render-quota.ts';
import { alice, bob, startVideo, startedHarnesses, takes } from './fakes/harness.ts';

const make = startedHarnesses();
const scale = async () => ({ steps: 10, frames: 16 });

describe('daily render budgets in the core', () => {
  it('refuse a render over the budget with one sentence, starting nothing, and /quota says what is left', async () => {
    const h = make({ core: { quota: renderQuota(new MemoryDailyQuota({ person: 500, channel: null }), scale) } });
    await startVideo(h, { prompt: 'a red ball', takes: 2 }); // 320 units
    const threads = h.adapter.threads.length;
    const refused = await h.core(h.command('video', { prompt: 'a blue ball', takes: 2 }));
    expect(refused.error).toMatchObject({ code: 'rate_limited' });
    expect(refused.error!.message).toMatch(/^This render needs 320 units of work but your daily budget has 180 of 500 left; it resets at 00:00 UTC \(in .+\), or ask for fewer takes, steps or seconds\.$/);
    expect(h.adapter.threads).toHaveLength(threads);
    await h.admission.idle();
    expect(h.queue.jobs).toHaveLength(1);
    // One take fits what is left; someone else has their own budget.
    expect((await h.core(h.command('video', { prompt: 'a blue ball', takes: 1 }))).error).toBeUndefined();
    expect((await h.core(h.command('video', { prompt: 'a green ball', takes: 2 }, bob))).error).toBeUndefined();
    const quota = await h.core(h.command('quota', {}));
    expect(quota.ephemeral).toMatch(/^You: 480 of 500 units of work used today, 20 left\.\nThis channel: 800 units of work today, no daily budget\.\n/);
  });

  it('charge a channel for everyone in it, finals and refinements included', async () => {
    const h = make({ core: { quota: renderQuota(new MemoryDailyQuota({ person: null, channel: 1000 }), scale) } });
    const { thread, jobId } = await startVideo(h, { prompt: 'a red ball', takes: 2 }); // 320
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    expect((await h.core(h.reply(thread, 'on a blue background', bob))).error).toBeUndefined(); // 640
    const final = await h.core(h.action(thread, `finalize:s1:${jobId}:0`, alice)); // 1 take at twice the steps: 320 -> 960
    expect(final.error).toBeUndefined();
    const over = await h.core(h.reply(thread, 'moving up', bob));
    expect(over.error?.message).toMatch(/^This render needs 320 units of work but this channel's daily budget has 40 of 1,000 left;/);
  });

  it('without budgets, /quota says so', async () => {
    const h = make();
    expect((await h.core(h.command('quota', {}))).ephemeral).toBe('This server sets no daily render budgets; renders are limited only by the queue.');
  });
});
