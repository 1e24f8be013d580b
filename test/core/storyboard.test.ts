import { describe, expect, it } from 'vitest';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import type { RenderJob } from '../../src/core/ports/job-queue.ts';
import { alice, bob, startedHarnesses, mod, takes, type Harness } from './fakes/harness.ts';

/**
 * Minute-long films in a thread, through the dispatcher with fake seams: storyboards (per-shot
 * votes, shot revisions, the cut), bridges, extensions in both directions, and their refusals.
 * The worker side (chains, cuts, frames) is tested against the real engine in test/workers.
 */

type H = Harness;
const make = startedHarnesses();

async function complete(h: H, job: RenderJob, frames = 16): Promise<void> {
  const results = takes(job.request.takes, job.request.seed).map((t) => ({ ...t, frames, fps: 8 }));
  h.queue.emit({ type: 'completed', jobId: job.jobId, takes: results, timingsMs: {} });
  await h.settle(2000);
}

async function storyboard(h: H, options: Record<string, unknown>): Promise<ThreadRef> {
  const out = await h.core(h.command('storyboard', options));
  expect(out.error).toBeUndefined();
  await h.admission.idle();
  await h.settle();
  return out.thread!;
}

describe('storyboards', () => {
  it('opens a thread with one version and one render per shot, the style on every prompt and one seed family', async () => {
    const h = make();
    const thread = await storyboard(h, { shots: 'a red circle moving right | a blue square moving left ', style: 'on a black background', takes: 2, duration: 4 });
    const session = (await h.store.getByThread(thread))!;
    expect(session.storyboard).toEqual({ style: 'on a black background', shots: [1, 2] });
    expect(session.versions.map((v) => [v.n, v.shot, v.prompt])).toEqual([
      [1, 1, 'a red circle moving right'],
      [2, 2, 'a blue square moving left'],
    ]);
    expect(h.queue.jobs.map((j) => j.request)).toEqual([
      { prompt: 'a red circle moving right, on a black background', negativePrompt: '', seed: 1000, takes: 2, quality: 'draft', frames: 32, overlap: 4 },
      { prompt: 'a blue square moving left, on a black background', negativePrompt: '', seed: 1000, takes: 2, quality: 'draft', frames: 32, overlap: 4 },
    ]);
    expect(h.adapter.postsIn(thread)[0]!.message.text).toContain('started a storyboard of 2 shots');
  });

  it('refuses too many shots, an empty shot and a film over the limit with one sentence, creating nothing', async () => {
    const h = make();
    const shots13 = Array.from({ length: 13 }, (_, i) => `shot ${i}`).join(' | ');
    expect((await h.core(h.command('storyboard', { shots: shots13 }))).error?.message).toBe('A storyboard holds at most 12 shots and this one has 13; split it into two storyboards.');
    expect((await h.core(h.command('storyboard', { shots: 'a red circle || a blue square' }))).error?.message).toBe('Shot 2 is empty; write a prompt between each pair of | signs.');
    expect((await h.core(h.command('storyboard', { shots: 'a | b | c', duration: 25 }))).error?.message).toBe('3 shots of 25 s make 75 s, over the 60 s limit for a film; use fewer shots or a shorter duration.');
    expect((await h.core(h.command('storyboard', { shots: 'a | b', duration: 61 }))).error?.message).toBe('duration 61 s is over the 60 s limit; ask for 60 s or less.');
    await h.admission.idle();
    expect(h.adapter.threads).toHaveLength(0);
    expect(h.queue.jobs).toHaveLength(0);
  });

  it('counts votes per shot, revises one shot with shot N:, adds a shot, and cuts the winners in order', async () => {
    const h = make();
    const thread = await storyboard(h, { shots: 'a red circle | a blue square', style: 'pixel art', takes: 2 });
    const [shot1, shot2] = h.queue.jobs;
    expect((await h.core(h.command('cut', {}, alice, thread))).error?.message).toBe(
      'Not every shot has a finished take yet: shot 1 (v1 is rendering) and shot 2 (v2 is rendering); /cut again when they are done.',
    );
    await complete(h, shot1!);
    await complete(h, shot2!);
    // Shot 1: take 2 leads 2-1. Shot 2: a 1-1 tie that the owner's vote breaks.
    await h.core(h.action(thread, 'vote:s1:1:1', bob));
    await h.core(h.action(thread, 'vote:s1:1:1', mod));
    await h.core(h.action(thread, 'vote:s1:1:0', alice));
    await h.core(h.action(thread, 'vote:s1:2:0', bob));
    await h.core(h.action(thread, 'vote:s1:2:1', alice));

    // A plain reply is not a storyboard edit; shot 2: revises shot 2 only, keeping the style.
    expect((await h.core(h.reply(thread, 'on a green background', bob))).ephemeral).toMatch(/start a reply with shot N:/);
    const revised = await h.core(h.reply(thread, 'shot 2: prompt: a yellow triangle', bob));
    expect(revised.error).toBeUndefined();
    await h.admission.idle();
    const revision = h.queue.jobs.at(-1)!;
    expect(revision.request.prompt).toBe('a yellow triangle, pixel art');
    let session = (await h.store.get('s1'))!;
    expect(session.storyboard?.shots).toEqual([1, 3]);
    expect(session.versions.at(-1)).toMatchObject({ n: 3, shot: 2, parent: 2, change: "shot 2: prompt 'a blue square' -> 'a yellow triangle'" });
    expect((await h.core(h.command('cut', {}, alice, thread))).error?.message).toBe('Not every shot has a finished take yet: shot 2 (v3 is rendering); /cut again when they are done.');
    await complete(h, revision);
    await h.core(h.action(thread, 'vote:s1:3:1', bob));

    const out = await h.core(h.command('cut', { transition: 'fade' }, bob, thread));
    expect(out.error).toBeUndefined();
    expect(out.ephemeral).toBe('Cut 1 is rendering (fade): shot 1: v1#2 (2 votes), shot 2: v3#2 (1 vote).');
    await h.admission.idle();
    const cut = h.queue.jobs.at(-1)!;
    expect(cut.request.quality).toBe('final');
    expect(cut.request.cut).toEqual({
      shots: [
        { artifact: expect.objectContaining({ key: 'v1.mp4' }), label: 'v1#2', prompt: 'a red circle, pixel art' },
        { artifact: expect.objectContaining({ key: 'v1.mp4' }), label: 'v3#2', prompt: 'a yellow triangle, pixel art' },
      ],
      transition: 'fade',
      overlap: 4,
    });
    await complete(h, cut, 32);
    const film = h.adapter.postsIn(thread).find((p) => p.message.text.startsWith('Film · cut 1'))!;
    expect(film.message.text).toBe('Film · cut 1 · fade\nshot 1: v1#2 (2 votes)\nshot 2: v3#2 (1 vote)');
    expect(film.message.attachments?.[0]?.kind).toBe('final');

    // shot 3: adds a shot with its own render; a cut waits for it.
    expect((await h.core(h.reply(thread, 'shot 3: a green circle moving up', alice))).error).toBeUndefined();
    await h.admission.idle();
    session = (await h.store.get('s1'))!;
    expect(session.storyboard?.shots).toEqual([1, 3, 4]);
    expect(h.queue.jobs.at(-1)!.request).toMatchObject({ prompt: 'a green circle moving up, pixel art', seed: 1000 });
    expect((await h.core(h.reply(thread, 'shot 9: a cat', alice))).ephemeral).toBe('This storyboard has 3 shots; revise shot 1 to 3, or add shot 4.');
  });

  it('breaks a tie without the owner by the lowest take number', async () => {
    const h = make();
    const thread = await storyboard(h, { shots: 'a red circle', takes: 3 });
    await complete(h, h.queue.jobs[0]!);
    await h.core(h.action(thread, 'vote:s1:1:2', bob));
    await h.core(h.action(thread, 'vote:s1:1:1', mod));
    expect((await h.core(h.command('cut', {}, bob, thread))).ephemeral).toBe('Cut 1 is rendering (cut): shot 1: v1#2 (1 vote).');
  });

  it('refuses /cut outside a storyboard and shot N: replies in a plain session', async () => {
    const h = make();
    const out = await h.core(h.command('video', { prompt: 'a red ball' }));
    await h.settle();
    expect((await h.core(h.command('cut', {}, alice, out.thread))).error?.message).toBe(
      '/cut works in a storyboard thread (the thread /storyboard opens); this thread is a single video, so finalize a take instead.',
    );
    expect((await h.core(h.reply(out.thread!, 'shot 2: blue', alice))).ephemeral).toBe('shot 2: only works in a storyboard thread; here, reply with the change itself.');
  });
});

describe('extending and bridging takes', () => {
  async function finishedSession(h: H): Promise<ThreadRef> {
    const out = await h.core(h.command('video', { prompt: 'a red circle moving right', takes: 2, duration: 10 }));
    await h.admission.idle();
    await complete(h, h.queue.jobs[0]!, 80);
    return out.thread!;
  }

  it('extends a take backward into a new version, and refuses past the length limit', async () => {
    const h = make();
    const thread = await finishedSession(h);
    const out = await h.core(h.command('extend', { take: 'v1#2', duration: 4, direction: 'backward' }, bob, thread));
    expect(out.ephemeral).toBe('v2 is rendering: v1#2 extended backward by 4 s.');
    await h.admission.idle();
    expect(h.queue.jobs.at(-1)!.request).toMatchObject({ frames: 32, seed: 1001, extend: { artifact: { key: 'v1.mp4' }, overlap: 4, direction: 'backward' } });
    const session = (await h.store.get('s1'))!;
    expect(session.jobs.at(-1)).toMatchObject({ kind: 'extend', version: 2, source: { take: 1 } });
    expect((await h.core(h.command('extend', { take: '1', duration: 55 }, bob, thread))).error?.message).toBe(
      'v1#1 extended by 55 s would be 65 s long, over the 60 s limit; extend it by at most 50 s.',
    );
    expect((await h.core(h.command('extend', { take: 'v7#1' }, bob, thread))).error?.message).toBe('There is no v7 in this thread; pick one of v1–v2.');
    expect((await h.core(h.command('extend', { take: 'v1#5' }, bob, thread))).error?.message).toBe('v1 has no take 5; pick v1#1 to v1#2.');
    expect((await h.core(h.command('extend', { take: 'first' }, bob, thread))).error?.message).toBe(
      'take "first" is not a take reference; write v2#1 for take 1 of version 2, or 1 for take 1 of the newest version.',
    );
    expect((await h.core(h.command('extend', { take: '1', direction: 'sideways' }, bob, thread))).error?.message).toBe('direction must be forward or backward.');
  });

  it('bridges two takes with the later take\u2019s prompt and both ends known', async () => {
    const h = make();
    const thread = await finishedSession(h);
    await h.core(h.reply(thread, 'on a blue background', bob));
    await h.admission.idle();
    await complete(h, h.queue.jobs.at(-1)!, 16);
    const out = await h.core(h.command('bridge', { from: 'v1#1', to: 'v2#2', duration: 1 }, bob, thread));
    expect(out.ephemeral).toBe('v3 is rendering: bridge v1#1 -> v2#2 (1 s).');
    await h.admission.idle();
    const job = h.queue.jobs.at(-1)!;
    expect(job.request).toMatchObject({ prompt: 'a red circle moving right, on a blue background', frames: 8, takes: 1 });
    expect(job.request.cut).toMatchObject({ transition: 'bridge', overlap: 4, shots: [{ label: 'v1#1' }, { label: 'v2#2' }] });
    expect((await h.core(h.command('bridge', { from: 'v1#1' }, bob, thread))).error?.message).toBe('to is missing; name both takes, e.g. from:v1#1 to:v2#1.');
    expect((await h.core(h.command('bridge', { from: 'v1#1', to: 'v1#1' }, bob, thread))).error?.message).toBe('from and to are both v1#1; bridge two different takes.');
    expect((await h.core(h.command('bridge', { from: 'v1#1', to: 'v1#2', duration: 50 }, bob, thread))).error?.message).toBe(
      'v1#1 + a 50 s bridge + v1#2 would be 70 s long, over the 60 s limit; make the bridge at most 40 s or bridge shorter takes.',
    );
  });

  it('refuses a /video over the length limit with one sentence', async () => {
    const h = make();
    expect((await h.core(h.command('video', { prompt: 'a red ball', duration: 61 }))).error?.message).toBe('duration 61 s is over the 60 s limit; ask for 60 s or less.');
    const ok = await h.core(h.command('video', { prompt: 'a red ball', duration: 60 }));
    await h.admission.idle();
    expect(ok.error).toBeUndefined();
    expect(h.queue.jobs[0]!.request).toMatchObject({ frames: 480, overlap: 4 });
    // The join overlap is the server's setting (DAILIES_OVERLAP); one window needs none.
    const six = make({ core: { config: { quorum: 3, voteWindowMs: 600_000, extendOverlap: 6 } } });
    await six.core(six.command('video', { prompt: 'a red ball', duration: 10 }));
    await six.core(six.command('video', { prompt: 'a blue ball', duration: 2 }));
    await six.admission.idle();
    expect(six.queue.jobs.map((j) => j.request.overlap)).toEqual([6, undefined]);
  });
});
