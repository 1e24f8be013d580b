import { describe, expect, it } from 'vitest';
import { actionKey } from '../../src/core/actions.ts';
import { galleryEntries, galleryPath, readGallery } from '../../src/core/gallery.ts';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import type { RenderJob, TakeResult } from '../../src/core/ports/job-queue.ts';
import type { Session } from '../../src/core/session.ts';
import { GalleryLinks } from '../../src/core/gallery-links.ts';
import { alice, artifact, bob, mod, startedHarnesses, type Harness } from './fakes/harness.ts';

/**
 * The gallery read off sessions the real core made with fake seams: which takes show (winners,
 * finals, films; never a removed or withheld take), what each says about itself, and the order.
 */

const make = startedHarnesses();
const named = { anonymous: false };

/** Takes stored under their job's folder, previews as images, as the worker leaves them. */
function stored(job: RenderJob, skip: readonly number[] = []): TakeResult[] {
  return Array.from({ length: job.request.takes }, (_, i) => i)
    .filter((i) => !skip.includes(i))
    .map((i) => ({ index: i, seed: job.request.seed + i, video: artifact(`renders/${job.jobId}/take${i}.mp4`), preview: artifact(`renders/${job.jobId}/take${i}.png`, 100, 'image/png') }));
}

async function complete(h: Harness, job: RenderJob, withheld: readonly number[] = []): Promise<void> {
  const held = withheld.map((index) => ({ index, seed: job.request.seed + index, finding: { label: 'nsfw', score: 0.93, threshold: 0.8 }, scores: { nsfw: 0.93 }, frames: 16 }));
  h.queue.emit({ type: 'completed', jobId: job.jobId, takes: stored(job, withheld), ...(held.length ? { withheld: held } : {}), timingsMs: {} });
  await h.settle();
}

/** A /video by Alice with two finished takes. */
async function video(h: Harness, prompt: string): Promise<{ thread: ThreadRef; job: RenderJob }> {
  const out = await h.core(h.command('video', { prompt, takes: 2 }));
  expect(out.error).toBeUndefined();
  await h.settle();
  const job = h.queue.jobs.at(-1)!;
  await complete(h, job);
  return { thread: out.thread!, job };
}

async function session(h: Harness, thread: ThreadRef): Promise<Session> {
  return (await h.store.getByThread(thread))!;
}

/** The owner picks `take` (0-based) in the round of `job`. */
async function pick(h: Harness, thread: ThreadRef, job: RenderJob, take: number): Promise<void> {
  const s = await session(h, thread);
  const round = s.rounds.find((r) => r.jobId === job.jobId)!;
  expect((await h.core(h.action(thread, actionKey({ type: 'pick', sessionId: s.id, roundId: round.id, take }), alice))).error).toBeUndefined();
  await h.settle();
}

async function finalize(h: Harness, thread: ThreadRef, take: number, withheld: readonly number[] = []): Promise<RenderJob> {
  expect((await h.core(h.command('finalize', { take }, alice, thread))).error).toBeUndefined();
  await h.settle();
  const final = h.queue.jobs.at(-1)!;
  await complete(h, final, withheld);
  return final;
}

describe('the gallery', () => {
  it('shows a winning take with its prompt, lineage, credits, files and thread, then its final in its place', async () => {
    const h = make();
    const { thread } = await video(h, 'a red ball');
    expect((await h.core(h.reply(thread, 'on a blue background', bob))).error).toBeUndefined();
    await h.settle();
    const v2 = h.queue.jobs.at(-1)!;
    await complete(h, v2);
    const s = await session(h, thread);
    const round = s.rounds.find((r) => r.jobId === v2.jobId)!;
    await h.core(h.action(thread, actionKey({ type: 'vote', sessionId: s.id, roundId: round.id, take: 1 }), mod));
    await pick(h, thread, v2, 1);
    const closedAt = h.clock.now();

    expect(galleryEntries([await session(h, thread)], named)).toEqual([
      {
        sessionId: s.id,
        channelKey: 'local:c1',
        thread,
        kind: 'winner',
        won: true,
        version: 2,
        take: 2,
        label: 'v2#2',
        prompt: 'a red ball, on a blue background',
        lineage: 'v1 by Alice → v2 by Bob',
        // Alice owns the thread but asked for no final: she is credited for her prompt only.
        credits: [
          { name: 'Alice', roles: ['prompted'] },
          { name: 'Bob', roles: ['revised'] },
          { name: 'Mo', roles: ['voted'] },
        ],
        video: artifact(`renders/${v2.jobId}/take1.mp4`),
        preview: artifact(`renders/${v2.jobId}/take1.png`, 100, 'image/png'),
        at: closedAt,
      },
    ]);

    h.clock.advance(1000);
    const final = await finalize(h, thread, 2);
    const [entry, ...rest] = galleryEntries([await session(h, thread)], named);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ kind: 'final', won: true, version: 2, take: 2, label: 'v2#2', lineage: 'v1 by Alice → v2 by Bob', video: artifact(`renders/${final.jobId}/take0.mp4`) });
    expect(entry!.credits).toEqual([
      { name: 'Alice', roles: ['prompted', 'finalized'] },
      { name: 'Bob', roles: ['revised'] },
      { name: 'Mo', roles: ['voted'] },
    ]);
    expect(entry!.at).toBeGreaterThan(closedAt);
  });

  it('skips a winner a moderator removed and a final the frame check withheld', async () => {
    const h = make({ core: { artifacts: { delete: async () => {} } } });
    const { thread, job } = await video(h, 'a red ball');
    await pick(h, thread, job, 0);
    expect(galleryEntries([await session(h, thread)], named).map((e) => e.label)).toEqual(['v1#1']);
    expect((await h.core(h.command('remove', { take: 'v1#1' }, mod, thread))).error).toBeUndefined();
    await h.settle();
    expect(galleryEntries([await session(h, thread)], named)).toEqual([]);

    await finalize(h, thread, 2, [0]);
    const s = await session(h, thread);
    expect(s.jobs.at(-1)).toMatchObject({ kind: 'finalize', state: 'done', artifacts: [] });
    expect(galleryEntries([s], named)).toEqual([]);
  });

  it("lists a storyboard's film with its shots side by side", async () => {
    const h = make();
    const out = await h.core(h.command('storyboard', { shots: 'a red circle | a blue square', takes: 1 }));
    await h.settle();
    for (const job of [...h.queue.jobs]) await complete(h, job);
    expect((await h.core(h.command('cut', {}, alice, out.thread!))).error).toBeUndefined();
    await h.settle();
    await complete(h, h.queue.jobs.at(-1)!);
    const [film] = galleryEntries([await session(h, out.thread!)], named);
    expect(film).toMatchObject({ kind: 'film', won: false, take: null, label: 'cut 1', prompt: 'Film: a red circle | a blue square', lineage: 'v1 by Alice, v2 by Alice' });
  });

  it('orders sessions as given and each one newest first, and pages through a channel by its index', async () => {
    const h = make();
    const first = await video(h, 'a red ball');
    await pick(h, first.thread, first.job, 0);
    h.clock.advance(1000);
    const second = await video(h, 'a green cube');
    await pick(h, second.thread, second.job, 1);
    h.clock.advance(1000);
    await finalize(h, second.thread, 1);

    const sessions = [await session(h, second.thread), await session(h, first.thread)];
    expect(galleryEntries(sessions, named).map((e) => [e.prompt, e.label, e.kind])).toEqual([
      ['a green cube', 'v1#1', 'final'],
      ['a green cube', 'v1#2', 'winner'],
      ['a red ball', 'v1#1', 'winner'],
    ]);

    // The store lists the newest write first: whole sessions per page, until the page is full.
    const one = await readGallery(h.store, 'local:c1', { limit: 1 }, named);
    expect(one.entries.map((e) => e.prompt)).toEqual(['a green cube', 'a green cube']);
    expect(one.next?.sessionId).toBe(sessions[0]!.id);
    const two = await readGallery(h.store, 'local:c1', { limit: 1, before: one.next! }, named);
    expect(two.entries.map((e) => e.prompt)).toEqual(['a red ball']);
    expect(two.next).toBeNull();
    expect((await readGallery(h.store, 'local:c1', { limit: 50 }, named)).entries).toHaveLength(3);
    expect(await readGallery(h.store, 'local:elsewhere', { limit: 50 }, named)).toEqual({ entries: [], next: null });
  });

  it('names nobody when the server says so, numbering people as Content Credentials do', async () => {
    const h = make();
    const { thread } = await video(h, 'a red ball');
    expect((await h.core(h.reply(thread, 'slower', bob))).error).toBeUndefined();
    await h.settle();
    const v2 = h.queue.jobs.at(-1)!;
    await complete(h, v2);
    await pick(h, thread, v2, 0);
    const [entry] = galleryEntries([await session(h, thread)], { anonymous: true });
    expect(entry!.lineage).toBe('v1 by contributor 1 → v2 by contributor 2');
    expect(entry!.credits).toEqual([
      { name: 'contributor 1', roles: ['prompted'] },
      { name: 'contributor 2', roles: ['revised'] },
    ]);
  });

  it('links a channel by a readable address', () => {
    expect(galleryPath('local:general')).toBe('/gallery?channel=local:general');
    expect(galleryPath('slack:C0&x')).toBe('/gallery?channel=slack:C0%26x');
  });
});

describe('/gallery', () => {
  it('answers the relative link on the web chat, the public link elsewhere, and the newest takes without one', async () => {
    const h = make();
    expect(await h.core(h.command('gallery', {}))).toEqual({ ephemeral: "This channel's gallery: /gallery?channel=local:c1" });
    const { thread } = await video(h, 'a red ball');
    expect(await h.core(h.command('gallery', {}, alice, thread))).toEqual({ thread, ephemeral: "This channel's gallery: /gallery?channel=local:c1" });

    const linked = make({ core: { config: { quorum: 3, voteWindowMs: 600_000, publicUrl: 'https://dailies.example.com/', galleryKey: 'test-gallery-secret' } } });
    const key = new GalleryLinks('test-gallery-secret').path('discord:c1').split('&key=')[1];
    expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await linked.core({ ...linked.command('gallery', {}), platform: 'discord' })).toEqual({ ephemeral: `This channel's gallery (the link opens it for anyone who has it): https://dailies.example.com/gallery?channel=discord:c1&key=${key}` });

    // No public address: Discord and Slack are answered with the channel's newest takes.
    const unlinked = make();
    const ana = { id: 'u-ana', name: 'Ana' };
    await unlinked.store.create({ id: 'd1', thread: { platform: 'discord', channelId: 'c1', threadId: 't1' }, owner: ana, first: { prompt: 'a paper boat', negativePrompt: '', seed: 1, author: ana, change: 'first version' }, settings: { takes: 1 } });
    await unlinked.store.addJob('d1', { jobId: 'dj1', version: 1, kind: 'render', quality: 'draft', takes: 1, requestedBy: ana });
    await unlinked.store.transitionJob('dj1', 'done', { artifacts: [{ index: 0, seed: 1, video: artifact('renders/dj1/take0.mp4'), preview: artifact('renders/dj1/take0.png', 100, 'image/png') }] });
    await unlinked.store.openRound('d1', { jobId: 'dj1', takes: 1, deadline: unlinked.clock.now() + 60_000, quorum: 0 });
    await unlinked.store.closeRound('d1', 1, { take: 0, by: ana });
    expect((await unlinked.core({ ...unlinked.command('gallery', {}), platform: 'discord' })).ephemeral).toBe('The newest winning and finalized takes in this channel:\n• v1#1 (won its vote): "a paper boat" · v1 by Ana');
    expect((await unlinked.core({ ...unlinked.command('gallery', {}), platform: 'slack' })).ephemeral).toBe('This channel has no winning or finalized takes yet; a take shows here once a vote picks it or it is finalized.');
  });
});
