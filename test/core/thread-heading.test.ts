import { describe, expect, it } from 'vitest';
import type { ChatAdapter, ThreadHeading, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import type { Session } from '../../src/core/session.ts';
import { showThreadHeading } from '../../src/core/thread-heading.ts';
import { bob, quietLog, startVideo, startedHarnesses, type Harness } from './fakes/harness.ts';

/** The thread's name and header follow the current version: every new version retitles, and a failed retitle never fails the command. */

const make = startedHarnesses();

/** retitle is fired without waiting: let it run. */
const drained = () => new Promise((r) => setImmediate(r));

async function lastHeading(h: Harness) {
  await drained();
  return h.adapter.headings.at(-1);
}

describe('thread heading', () => {
  it('a reply retitles the thread with the new prompt, and the header names people, not ids', async () => {
    const h = make();
    const { thread } = await startVideo(h);
    expect(h.adapter.headings).toEqual([]);
    const out = await h.core(h.reply(thread, 'on a blue background', bob));
    expect(out.error).toBeUndefined();
    const session = (await h.store.getByThread(thread))!;
    const v2 = session.versions.at(-1)!;
    expect(v2.n).toBe(2);
    const shown = await lastHeading(h);
    expect(shown?.thread).toEqual(thread);
    expect(shown?.heading.title).toBe(`v2 · ${v2.prompt}`);
    expect(v2.prompt).toContain('blue background');
    expect(shown?.heading.header?.split('\n').slice(0, 2)).toEqual(['Alice started a video: "a red ball bouncing"', `Now at v2 by Bob: "${v2.prompt}"`]);
    expect(shown?.heading.header).not.toMatch(/u-alice|u-bob/);
    expect(h.adapter.titles.get(thread.threadId)).toBe(`v2 · ${v2.prompt}`);
    // The root (the session header) shows it.
    expect(h.adapter.latest(h.adapter.postsIn(thread)[0]!).text).toContain('Now at v2 by Bob');
  });

  it('a failing retitle does not fail the reply: the version is made and the failure logged', async () => {
    const h = make();
    const { thread } = await startVideo(h);
    h.adapter.failNextRetitle = true;
    const warnings = quietLog.warnings.length;
    const out = await h.core(h.reply(thread, 'moving left', bob));
    expect(out.error).toBeUndefined();
    await drained();
    expect((await h.store.getByThread(thread))?.current).toBe(2);
    expect(h.queue.jobs.at(-1)?.version).toBe(2);
    expect(quietLog.warnings.slice(warnings).some((w) => w.includes('could not show v2'))).toBe(true);
    // The next version retitles again.
    await h.core(h.reply(thread, 'again', bob));
    expect((await lastHeading(h))?.heading.title).toMatch(/^v3 · /);
  });

  it('sends one heading at a time per thread, only the newest write, never an older one after it', async () => {
    const h = make();
    const { thread } = await startVideo(h);
    await h.core(h.reply(thread, 'moving left', bob));
    await h.core(h.reply(thread, 'on a blue background', bob));
    const real = (await h.store.getByThread(thread))!;
    const at = (rev: number, current: number): Session => ({ ...structuredClone(real), rev, current });
    // A platform that holds the first rename until released, and records the order they land in.
    const landed: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slow = { retitle: async (_t: ThreadRef, heading: ThreadHeading) => {
      if (landed.length === 0) await held;
      landed.push(heading.title.slice(0, 2));
    } } as unknown as ChatAdapter;
    const ctx = { adapters: () => slow, log: quietLog };
    showThreadHeading(ctx, at(20, 2));
    showThreadHeading(ctx, at(19, 1)); // an older write, arriving late: never shown
    showThreadHeading(ctx, at(22, 3)); // the newest: waits for the one in flight
    showThreadHeading(ctx, at(21, 1)); // older than what waits: dropped
    release();
    await expect.poll(() => landed).toEqual(['v2', 'v3']);
    // Once idle, the thread still knows what it showed: a late older write stays unsent.
    showThreadHeading(ctx, at(21, 1));
    await drained();
    expect(landed).toEqual(['v2', 'v3']);
    showThreadHeading(ctx, at(23, 2));
    await expect.poll(() => landed).toEqual(['v2', 'v3', 'v2']);
  });

  it('a storyboard keeps its plan as the header; its name follows the revised shot', async () => {
    const h = make();
    const out = await h.core(h.command('storyboard', { shots: 'a red circle | a blue square' }));
    const thread = out.thread!;
    await h.settle();
    const root = h.adapter.latest(h.adapter.postsIn(thread)[0]!).text;
    await h.core(h.reply(thread, 'shot 2: prompt: a yellow triangle', bob));
    const shown = await lastHeading(h);
    expect(shown?.heading).toEqual({ title: 'v3 · shot 2 · a yellow triangle' });
    expect(h.adapter.latest(h.adapter.postsIn(thread)[0]!).text).toBe(root);
  });
});
