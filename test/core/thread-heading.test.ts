import { describe, expect, it } from 'vitest';
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
