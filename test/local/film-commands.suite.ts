import { describe, expect, it } from 'vitest';
import type { CommandEvent, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import type { ActorView, ChatAdapterHarness } from '../conformance/chat-adapter.conformance.ts';
import { coreRigPerTest } from './core-rig.ts';

/**
 * The film commands (/storyboard, /cut, /extend with take references, /bridge) typed on a
 * platform, through its real adapter, into the real core: one suite, run by test/local,
 * test/discord and test/slack with the same harness the chat conformance suite uses. The core's
 * own rules are tested in test/core/storyboard.test.ts; this checks that each platform carries
 * the options there and the answers back, and that a refusal leaves nothing behind.
 */

/** One sentence: no line break, one final stop, no sentence starting inside. */
export function expectOneSentence(text: string | undefined): void {
  expect(text, 'a refusal').toEqual(expect.any(String));
  expect(text).not.toContain('\n');
  expect(text).toMatch(/[.?]$/);
  expect(text!.slice(0, -1)).not.toMatch(/[.!?]\s+[A-Z]/);
}

export function describeFilmCommands(name: string, makeHarness: () => Promise<ChatAdapterHarness>): void {
  describe(`film commands through the real core: ${name}`, () => {
    const { h, rig } = coreRigPerTest(makeHarness);
    const ana = () => h().users[0];


    const send = (command: string, options: Record<string, unknown>, thread?: ThreadRef) => h().driver.sendCommand(h().channel, ana(), command, options, thread ? { thread } : {});
    const lastCommand = () => rig().events.filter((e): e is CommandEvent => e.kind === 'command').at(-1)!;

    /** A /video session whose first render finished with two takes (v1#1, v1#2). */
    async function finishedVideo(): Promise<ThreadRef> {
      const view = await send('video', { prompt: 'a red circle moving left', takes: 2 });
      expect(view.error).toBeUndefined();
      await rig().settle();
      const job = rig().queue.jobs.at(-1)!;
      await rig().finish(job);
      return job.thread;
    }

    async function expectRefused(view: ActorView, message: string): Promise<void> {
      expect(view.error?.message).toBe(message);
      expectOneSentence(view.error?.message);
    }

    it('a /storyboard of 2 shots opens one thread and queues one render per shot', async () => {
      const view = await send('storyboard', { shots: 'a red circle | a blue square', style: 'pixel art', takes: 1 });
      expect(view.error).toBeUndefined();
      expect(lastCommand().options).toMatchObject({ shots: 'a red circle | a blue square', style: 'pixel art', takes: 1 });
      await rig().settle();
      expect(rig().queue.jobs.map((j) => [j.request.prompt, j.request.takes])).toEqual([
        ['a red circle, pixel art', 1],
        ['a blue square, pixel art', 1],
      ]);
      const thread = rig().queue.jobs[0]!.thread;
      expect(rig().queue.jobs[1]!.thread).toEqual(thread);
      expect(rig().calls.filter((c) => c.method === 'startThread')).toHaveLength(1);
      const shown = await h().driver.readThread(thread);
      expect(shown[0]!.text).toContain('started a storyboard of 2 shots');
      expect(shown[0]!.text).toContain('a blue square');
    });

    it('a reply makes v2 and the thread follows it: its name (where the platform has one) and its header, by people\'s names', async () => {
      const thread = await finishedVideo();
      const ben = h().users[1];
      expect((await h().driver.sendReply(thread, ben, 'on a blue background')).error).toBeUndefined();
      await rig().settle();
      const v2 = rig().queue.jobs.at(-1)!;
      expect(v2.request.prompt).toContain('blue background');
      const title = await h().driver.readTitle(thread);
      if (title !== null) {
        await expect.poll(() => h().driver.readTitle(thread)).toBe(`v2 · ${v2.request.prompt}`.slice(0, 100));
      }
      await expect.poll(async () => (await h().driver.readThread(thread))[0]!.text).toContain(`Now at v2 by ${h().displayName?.(ben) ?? ben}`);
      const header = (await h().driver.readThread(thread))[0]!.text;
      expect(header).toContain(`${h().displayName?.(ana()) ?? ana()} started a video`);
      expect(header).toContain('a red circle moving left');
    });

    it('storyboard -> a vote on each shot -> /cut posts the film in the thread as a final video', async () => {
      const view = await send('storyboard', { shots: 'a red circle | a blue square', takes: 2 });
      expect(view.error).toBeUndefined();
      await rig().settle();
      const [shot1, shot2] = rig().queue.jobs;
      await rig().finish(shot1!);
      await rig().finish(shot2!);
      const thread = shot1!.thread;
      // Take 2 of shot 1 gets a vote through the platform's own button; shot 2 has none (take 1).
      const take2 = (await h().driver.readThread(thread)).find((m) => m.text.startsWith('Take 2 of v1'))!;
      const vote = take2.buttons.flat().find((b) => b.label.startsWith('Vote'))!;
      expect((await h().driver.click(thread, ana(), vote.action)).error).toBeUndefined();
      const cut = await send('cut', { transition: 'fade' }, thread);
      expect(cut.error).toBeUndefined();
      expect(cut.ephemeral).toBe('Cut 1 is rendering (fade): shot 1: v1#2 (1 vote), shot 2: v2#1.');
      await rig().settle();
      const job = rig().queue.jobs.at(-1)!;
      expect(job.request.cut?.shots.map((s) => s.label)).toEqual(['v1#2', 'v2#1']);
      await rig().finish(job);
      const film = (await h().driver.readThread(thread)).find((m) => m.text.startsWith('Film · cut 1'))!;
      expect(film.text).toBe('Film · cut 1 · fade\nshot 1: v1#2 (1 vote)\nshot 2: v2#1');
      expect(film.attachments).toHaveLength(1);
    });

    it('/cut in a thread that is not a storyboard answers the one-sentence refusal and renders nothing', async () => {
      const thread = await finishedVideo();
      const jobs = rig().queue.jobs.length;
      const posts = rig().calls.length;
      const before = (await h().driver.readThread(thread)).length;
      const view = await send('cut', { transition: 'fade' }, thread);
      expect(lastCommand()).toMatchObject({ name: 'cut', options: { transition: 'fade' }, thread });
      await expectRefused(view, '/cut works in a storyboard thread (the thread /storyboard opens); this thread is a single video, so finalize a take instead.');
      await rig().settle();
      expect(rig().queue.jobs).toHaveLength(jobs);
      expect(rig().calls).toHaveLength(posts);
      expect(await h().driver.readThread(thread)).toHaveLength(before);
    });

    it('/extend take v1#1 direction backward reaches the core with those options and renders v2 leading into it', async () => {
      const thread = await finishedVideo();
      const view = await send('extend', { take: 'v1#1', direction: 'backward', duration: 2 }, thread);
      expect(view.error).toBeUndefined();
      expect(lastCommand()).toMatchObject({ name: 'extend', options: { take: 'v1#1', direction: 'backward', duration: 2 }, thread });
      expect(view.ephemeral).toContain('v2 is rendering: v1#1 extended backward by 2 s.');
      await rig().settle();
      const job = rig().queue.jobs.at(-1)!;
      expect(job.version).toBe(2);
      expect(job.request).toMatchObject({ frames: 16, extend: { direction: 'backward', artifact: { key: `${rig().queue.jobs[0]!.jobId}-take1.mp4` } } });
    });

    it('the Extend button on a take still extends it forward by the default length', async () => {
      const thread = await finishedVideo();
      const take2 = (await h().driver.readThread(thread)).find((m) => m.text.startsWith('Take 2 of v1'))!;
      const extend = take2.buttons.flat().find((b) => b.label === 'Extend')!;
      const view = await h().driver.click(thread, ana(), extend.action);
      expect(view.error).toBeUndefined();
      await rig().settle();
      const job = rig().queue.jobs.at(-1)!;
      expect(job.version).toBe(2);
      expect(job.request).toMatchObject({ frames: 16, extend: { direction: 'forward', artifact: { key: `${rig().queue.jobs[0]!.jobId}-take2.mp4` } } });
    });

    it('/video model: renders with that model, /models lists the pool, and an unserved model is one sentence', async () => {
      const view = await send('video', { prompt: 'a red circle moving left', takes: 1, model: 'big-t2v' });
      expect(view.error).toBeUndefined();
      expect(lastCommand().options).toMatchObject({ model: 'big-t2v' });
      await rig().settle();
      expect(rig().queue.jobs.at(-1)!.model).toBe('Big-T2V');
      const models = await send('models', {});
      expect(models.error).toBeUndefined();
      expect(models.ephemeral).toContain('• shapes-v1 (default): 1 worker (2 render slots), 1 waiting, about 4.2 s a render');
      expect(models.ephemeral).toContain('• Big-T2V: no worker right now');
      const jobs = rig().queue.jobs.length;
      await expectRefused(await send('video', { prompt: 'a blue square', model: 'sora' }), 'No worker renders with "sora"; /models lists the models you can use.');
      await rig().settle();
      expect(rig().queue.jobs).toHaveLength(jobs);
    });

    it('/settings saves your defaults, the next /video uses them and says so, and a bad value is one sentence', async () => {
      const saved = await send('settings', { takes: 1, style: 'pixel art' });
      expect(saved.error).toBeUndefined();
      expect(saved.ephemeral).toBe('Your defaults are now: takes 1, style "pixel art".');
      const view = await send('video', { prompt: 'a red circle moving left' });
      expect(view.ephemeral).toBe('Started "a red circle moving left" with 1 take in a new thread (from your settings: takes 1, style "pixel art").');
      await rig().settle();
      expect(rig().queue.jobs.at(-1)!.request).toMatchObject({ prompt: 'a red circle moving left, pixel art', takes: 1 });
      await expectRefused(await send('settings', { model: 'sora' }), 'No worker renders with "sora"; /models lists the models you can use.');
      const shown = await send('settings', {});
      expect(shown.ephemeral?.split('\n')[0]).toBe('Your defaults: takes 1, style "pixel art".');
    });

    it('/info v1#2 shows the one who asked the full prompt, seed, steps and model of that take', async () => {
      const thread = await finishedVideo();
      const view = await send('info', { take: 'v1#2' }, thread);
      expect(view.error).toBeUndefined();
      const seed = rig().queue.jobs[0]!.request.seed + 1;
      expect(view.ephemeral).toBe(
        [
          'v1#2: take 2 of v1',
          'Prompt: "a red circle moving left"',
          `seed ${seed} · the model's default steps · 16 frames at 8 fps (2.0 s) · draft quality`,
          'Model: rig-model',
          `v1 by ${h().displayName?.(ana()) ?? ana()}, the first version: first version`,
        ].join('\n'),
      );
      // A take that does not exist is one sentence.
      await expectRefused(await send('info', { take: 'v1#5' }, thread), 'v1 has no take 5; pick v1#1 to v1#2.');
    });

    it('/bridge from:v1#1 to:v1#2 joins two takes of the thread', async () => {
      const thread = await finishedVideo();
      const view = await send('bridge', { from: 'v1#1', to: 'v1#2' }, thread);
      expect(view.error).toBeUndefined();
      expect(lastCommand().options).toMatchObject({ from: 'v1#1', to: 'v1#2' });
      await rig().settle();
      expect(rig().queue.jobs.at(-1)!.request.takes).toBe(1);
      expect(rig().queue.jobs).toHaveLength(2);
    });

    it("/gallery answers the web chat with its link, and Discord or Slack (no public address) with the channel's newest takes", async () => {
      const thread = await finishedVideo();
      const take2 = (await h().driver.readThread(thread)).find((m) => m.text.startsWith('Take 2 of v1'))!;
      const pick = take2.buttons.flat().find((b) => b.label === 'Pick (owner)')!;
      expect((await h().driver.click(thread, ana(), pick.action)).error).toBeUndefined();
      await rig().settle();
      const view = await send('gallery', {});
      expect(view.error).toBeUndefined();
      expect(lastCommand().name).toBe('gallery');
      const { platform } = h().adapter;
      expect(view.ephemeral).toBe(
        platform === 'local'
          ? `This channel's gallery: /gallery?channel=local:${thread.channelId}`
          : `The newest winning and finalized takes in this channel:\n• v1#2 (won its vote): "a red circle moving left" · v1 by ${h().displayName?.(ana()) ?? ana()}`,
      );
    });

    it('bad input in a channel answers one sentence and opens nothing', async () => {
      const cases: [string, Record<string, unknown>, string][] = [
        ['storyboard', { shots: Array.from({ length: 13 }, (_, i) => `shot ${i + 1}`).join(' | ') }, 'A storyboard holds at most 12 shots and this one has 13; split it into two storyboards.'],
        ['storyboard', { shots: 'a red circle || a blue square' }, 'Shot 2 is empty; write a prompt between each pair of | signs.'],
        ['storyboard', { shots: 'a | b', duration: 61 }, 'duration 61 s is over the 60 s limit; ask for 60 s or less.'],
        ['video', { prompt: 'a red circle', duration: 61 }, 'duration 61 s is over the 60 s limit; ask for 60 s or less.'],
      ];
      for (const [command, options, message] of cases) await expectRefused(await send(command, options), message);
      await rig().settle();
      expect(rig().calls).toEqual([]);
      expect(rig().queue.jobs).toEqual([]);
    });

    it('bad input in a thread (unknown takes, a bad direction, a storyboard) answers one sentence and posts nothing', async () => {
      const thread = await finishedVideo();
      const jobs = rig().queue.jobs.length;
      const posts = rig().calls.length;
      await expectRefused(await send('extend', { take: 'v9#1' }, thread), 'There is no v9 in this thread; pick one of v1–v1.');
      await expectRefused(await send('extend', { take: 'v1#3' }, thread), 'v1 has no take 3; pick v1#1 to v1#2.');
      await expectRefused(await send('extend', { take: 'v1#1', direction: 'sideways' }, thread), 'direction must be forward or backward.');
      await expectRefused(await send('bridge', { from: 'v1#1', to: 'v1#1' }, thread), 'from and to are both v1#1; bridge two different takes.');
      await expectRefused(await send('storyboard', { shots: 'a | b' }, thread), 'Start a storyboard with /storyboard in a channel; inside this thread, reply to refine instead.');
      await rig().settle();
      expect(rig().queue.jobs).toHaveLength(jobs);
      expect(rig().calls).toHaveLength(posts);
    });
  });
}
