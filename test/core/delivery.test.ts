import { afterEach, describe, expect, it } from 'vitest';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { alice, artifact, bob, harness, takes, startVideo } from './fakes/harness.ts';

type H = ReturnType<typeof harness>;
let current: H | null = null;

afterEach(async () => {
  await current?.delivery.stop();
  current = null;
});

function texts(h: H, thread: ThreadRef): string[] {
  return h.adapter.postsIn(thread).map((p) => p.message.text);
}

describe('delivery', () => {
  it('turns a /video with 2 takes into one progress message carrying the newest preview, takes with vote buttons and a vote message', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);

    h.queue.emit({ type: 'queued', jobId, position: 1, etaMs: 30_000 });
    h.queue.emit({ type: 'started', jobId, workerId: 'w1', attempt: 1 });
    for (let step = 1; step <= 20; step++) {
      h.queue.emit({ type: 'progress', jobId, step, totalSteps: 20 });
      if (step === 10) h.queue.emit({ type: 'preview', jobId, step: 10, totalSteps: 20, previews: [artifact('p0.png', 10, 'image/png'), artifact('p1.png', 10, 'image/png')] });
      await h.settle(100);
    }
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    await h.settle(2000);

    const posts = h.adapter.postsIn(thread);
    const progress = posts.filter((p) => p.message.text.includes('2 takes · v1'));
    expect(progress).toHaveLength(1);
    const progressMsg = progress[0]!;
    expect(progressMsg.message.text).toContain('Queued');
    expect(h.adapter.latest(progressMsg).text).toContain('Done');
    expect(h.adapter.latest(progressMsg).buttons).toBeUndefined();
    expect(progressMsg.edits.some((e) => /▰+▱+ \d+% · step \d+\/20/.test(e.text))).toBe(true);

    // The preview rode on the progress message (its files swapped in), not in a message of its own,
    // and left with the job's end: the takes speak for it.
    expect(posts.filter((p) => p.message.text.startsWith('Preview'))).toHaveLength(0);
    const withPreview = progressMsg.edits.find((e) => e.text.includes('Preview at step 10/20'))!;
    expect(withPreview.text.split('\n').at(-1)).toBe('Preview at step 10/20');
    expect(progressMsg.replaced).toBe(2);
    expect(h.adapter.latest(progressMsg).attachments).toBeUndefined();

    const takePosts = posts.filter((p) => p.message.text.startsWith('Take '));
    expect(takePosts.map((p) => p.message.text.split(' ·')[0])).toEqual(['Take 1 of v1', 'Take 2 of v1']);
    for (const [i, p] of takePosts.entries()) {
      const actions = p.message.buttons?.flat().map((b) => b.action) ?? [];
      expect(actions).toContain(`vote:s1:1:${i}`);
      expect(actions).toContain(`finalize:s1:${jobId}:${i}`);
      expect(actions).toContain(`vary:s1:${jobId}:${i}`);
      expect(actions).toContain(`extend:s1:${jobId}:${i}`);
      expect(p.message.attachments?.[0]?.key).toBe(`v${i}.mp4`);
    }
    expect(texts(h, thread).filter((t) => t.startsWith('Votes for v1'))).toHaveLength(1);
    // header + progress + 2 takes + vote message: nothing doubled by the second 'completed'
    expect(posts).toHaveLength(5);
    const session = await h.store.get('s1');
    expect(session?.jobs[0]?.state).toBe('done');
    expect(session?.rounds).toHaveLength(1);
  });

  it('swaps the preview on the progress message for each newer one: one message, the newest files', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    h.queue.emit({ type: 'started', jobId, workerId: 'w1', attempt: 1 });
    h.queue.emit({ type: 'preview', jobId, step: 4, totalSteps: 12, previews: [artifact('s4-t0.png', 10, 'image/png'), artifact('s4-t1.png', 10, 'image/png')] });
    await h.settle(2000);
    const progress = h.adapter.postsIn(thread).find((p) => p.message.text.includes('2 takes · v1'))!;
    expect(h.adapter.latest(progress).attachments?.map((a) => a.key)).toEqual(['s4-t0.png', 's4-t1.png']);
    h.queue.emit({ type: 'progress', jobId, step: 6, totalSteps: 12 });
    await h.settle(2000);
    // A step without a new preview is a plain edit: the files stay.
    expect(progress.replaced).toBe(1);
    expect(h.adapter.latest(progress).text).toMatch(/step 6\/12\nPreview at step 4\/12$/);
    h.queue.emit({ type: 'preview', jobId, step: 8, totalSteps: 12, previews: [artifact('s8-t0.png', 10, 'image/png'), artifact('s8-t1.png', 10, 'image/png')] });
    await h.settle(2000);
    expect(h.adapter.latest(progress).attachments?.map((a) => a.key)).toEqual(['s8-t0.png', 's8-t1.png']);
    expect(progress.replaced).toBe(2);
    expect(h.adapter.postsIn(thread)).toHaveLength(2);
  });

  it('edits the progress message at most once per 1.5 s and always ends on the final state', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    h.queue.emit({ type: 'started', jobId, workerId: 'w1', attempt: 1 });
    const editTimes: number[] = [];
    const originalEdit = h.adapter.edit.bind(h.adapter);
    h.adapter.edit = async (ref, message) => {
      editTimes.push(h.clock.now());
      return originalEdit(ref, message);
    };
    for (let step = 1; step <= 50; step++) {
      h.queue.emit({ type: 'progress', jobId, step, totalSteps: 50 });
      await h.settle(100);
    }
    h.queue.emit({ type: 'cancelled', jobId });
    await h.settle(0);
    await h.settle(1600);
    for (let i = 1; i < editTimes.length; i++) expect(editTimes[i]! - editTimes[i - 1]!).toBeGreaterThanOrEqual(1500);
    expect(editTimes.length).toBeLessThanOrEqual(Math.ceil((50 * 100) / 1500) + 2);
    const progress = h.adapter.postsIn(thread).find((p) => p.message.text.includes('v1'))!;
    expect(h.adapter.latest(progress).text).toContain('Cancelled');
  });

  it('shows previews on the progress message, also when a retried job sends them again, and shows the retry', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    const preview = { type: 'preview' as const, jobId, step: 5, totalSteps: 10, previews: [artifact('p.png', 10, 'image/png')] };
    h.queue.emit({ type: 'started', jobId, workerId: 'w1', attempt: 1 });
    h.queue.emit(preview);
    h.queue.emit({ type: 'failed', jobId, error: { code: 'internal', message: 'worker crashed' }, willRetry: true });
    await h.settle(2000);
    let session = await h.store.get('s1');
    expect(session?.jobs[0]?.state).toBe('queued');
    h.queue.emit({ type: 'started', jobId, workerId: 'w2', attempt: 2 });
    h.queue.emit(preview);
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    await h.settle(2000);
    // No preview message of its own, ever; the retry's preview went on the same progress message.
    expect(texts(h, thread).filter((t) => t.startsWith('Preview'))).toHaveLength(0);
    const progress = h.adapter.postsIn(thread).find((p) => p.message.text.includes('v1'))!;
    expect(progress.edits.filter((e) => e.text.includes('Preview at step 5/10')).length).toBeGreaterThan(0);
    session = await h.store.get('s1');
    expect(session?.jobs[0]?.previewPosts).toEqual([{ index: 5, files: [{ take: 0, key: 'p.png' }], onProgress: true }]);
    expect(session?.jobs[0]?.attempt).toBe(2);
    expect(session?.jobs[0]?.state).toBe('done');
  });

  it('does not post twice after a restart: a new delivery finds the earlier posts in the store', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    const before = h.adapter.postsIn(thread).length;
    await h.delivery.stop();
    const { createDelivery } = await import('../../src/core/delivery.ts');
    const restarted = createDelivery({
      store: h.store,
      queue: h.queue,
      adapters: [h.adapter],
      artifacts: { publicUrl: (r) => r.key },
      clock: h.clock,
      log: { warn() {}, error() {} },
    });
    restarted.start();
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await restarted.idle();
    h.clock.advance(2000);
    await restarted.idle();
    expect(h.adapter.postsIn(thread)).toHaveLength(before);
    await restarted.stop();
  });

  it('never uploads a file over the adapter limit: it shrinks it with fitToSize, or links it', async () => {
    const h = (current = harness({ maxUploadBytes: 10_000 }));
    const { thread, jobId } = await startVideo(h);
    const big = takes(2, 1000, 50_000);
    h.queue.emit({ type: 'completed', jobId, takes: big, timingsMs: {} });
    await h.settle(2000);
    expect(h.fitted).toEqual([
      { key: 'v0.mp4', max: 10_000 },
      { key: 'v1.mp4', max: 10_000 },
    ]);
    for (const p of h.adapter.postsIn(thread)) for (const a of p.message.attachments ?? []) expect(a.bytes).toBeLessThanOrEqual(10_000);
    const take1 = h.adapter.postsIn(thread).find((p) => p.message.text.startsWith('Take 1'))!;
    expect(take1.message.attachments?.[0]?.key).toBe('v0.mp4.fit.mp4');

    const h2 = harness({ maxUploadBytes: 10_000, delivery: { fitToSize: async (ref) => ref } });
    const second = await startVideo(h2);
    h2.queue.emit({ type: 'completed', jobId: second.jobId, takes: big, timingsMs: {} });
    await h2.settle(2000);
    const linked = h2.adapter.postsIn(second.thread).find((p) => p.message.text.startsWith('Take 1'))!;
    expect(linked.message.attachments).toBeUndefined();
    expect(linked.message.text).toContain('http://files.test/v0.mp4');
    await h2.delivery.stop();
  });

  it('edits the vote tally live and announces the winner once when quorum closes the round', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    const voters = [alice, bob, { id: 'u-carol', name: 'Carol' }];
    for (const [i, user] of voters.entries()) {
      const out = await h.core(h.action(thread, `vote:s1:1:${i === 2 ? 0 : i === 1 ? 0 : 1}`, user));
      expect(out.error).toBeUndefined();
      await h.settle(1600);
    }
    await h.settle(1600);
    const voteMsg = h.adapter.postsIn(thread).find((p) => p.message.text.startsWith('Votes for v1'))!;
    expect(h.adapter.latest(voteMsg).text).toContain('take 1: 2 votes (Bob, Carol) · take 2: 1 vote (Alice)');
    expect(h.adapter.latest(voteMsg).text).toContain('quorum reached');
    expect(texts(h, thread).filter((t) => t.startsWith('Take 1 of v1 wins'))).toHaveLength(1);
    const session = await h.store.get('s1');
    expect(session?.base).toMatchObject({ take: 0, seed: 1000, version: 1 });
  });

  it('closes a round at its deadline through the timer, and after a restart through the sweep', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    await h.core(h.action(thread, 'vote:s1:1:1', bob));
    await h.settle(600_000);
    await h.settle(2000);
    expect(texts(h, thread).filter((t) => t.startsWith('Take 2 of v1 wins'))).toHaveLength(1);
    expect((await h.store.get('s1'))?.rounds[0]?.closed?.reason).toBe('deadline');

    const h2 = harness();
    const second = await startVideo(h2);
    h2.queue.emit({ type: 'completed', jobId: second.jobId, takes: takes(2), timingsMs: {} });
    await h2.settle(2000);
    await h2.delivery.stop();
    h2.clock.advance(700_000);
    h2.delivery.start();
    await h2.settle(0);
    await h2.settle(2000);
    expect((await h2.store.get('s1'))?.rounds[0]?.closed?.reason).toBe('deadline');
    expect(texts(h2, second.thread).filter((t) => t.includes('closed with no votes'))).toHaveLength(1);
    await h2.delivery.stop();
  });

  it('posts a final-quality render without a vote', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    const out = await h.core(h.action(thread, `finalize:s1:${jobId}:1`, alice));
    expect(out.error).toBeUndefined();
    await h.admission.idle();
    const final = h.queue.jobs.at(-1)!;
    expect(final.request).toMatchObject({ quality: 'final', takes: 1, seed: 1001 });
    h.queue.emit({ type: 'completed', jobId: final.jobId, takes: [{ index: 0, seed: 1001, video: artifact('final.mp4'), preview: artifact('f.png', 10, 'image/png') }], timingsMs: {} });
    await h.settle(2000);
    const finals = h.adapter.postsIn(thread).filter((p) => p.message.text.startsWith('Final ·'));
    expect(finals).toHaveLength(1);
    expect(finals[0]?.message.text).toContain('take 2 of v1');
    expect(finals[0]?.message.buttons).toBeUndefined();
    expect((await h.store.get('s1'))?.rounds).toHaveLength(1);
  });

  it('ignores events of jobs it does not know and a completion after a cancel', async () => {
    const h = (current = harness());
    const { thread, jobId } = await startVideo(h);
    h.queue.emit({ type: 'completed', jobId: 'someone-elses', takes: takes(1), timingsMs: {} });
    h.queue.emit({ type: 'cancelled', jobId });
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    expect(texts(h, thread).some((t) => t.startsWith('Take'))).toBe(false);
    expect((await h.store.get('s1'))?.jobs[0]?.state).toBe('cancelled');
  });
});
