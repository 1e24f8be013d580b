import { describe, expect, it } from 'vitest';
import type { ChatAdapterHarness } from '../conformance/chat-adapter.conformance.ts';
import { coreRigPerTest } from './core-rig.ts';
import { expectOneSentence } from './film-commands.suite.ts';

/**
 * A moderator removing a take, as each platform shows it: the take's message becomes a note with
 * no file and no buttons, the other takes stay, the take's files are deleted, commands naming it
 * get one sentence, asking twice is fine, and anyone else is refused. Run by test/local,
 * test/discord and test/slack through their real adapters and the real core.
 */
export function describeModeration(name: string, makeHarness: () => Promise<ChatAdapterHarness>): void {
  describe(`moderators remove takes: ${name}`, () => {
    const { h, rig } = coreRigPerTest(makeHarness);

    it('replaces a removed take by a note, deletes its files, keeps it out of the vote, and refuses anyone else', async () => {
      const [ana, ben] = h().users;
      const mod = h().moderator!;
      const who = h().displayName?.(mod) ?? mod;
      expect(mod, 'the harness names a moderator').toBeDefined();
      await h().driver.sendCommand(h().channel, ana, 'video', { prompt: 'a red circle', takes: 2 });
      await rig().settle();
      const job = rig().queue.jobs.at(-1)!;
      await rig().finish(job);
      const thread = job.thread;
      const takeOne = (await h().driver.readThread(thread)).find((m) => m.text.startsWith('Take 1 of v1'))!;
      expect(takeOne.attachments).toHaveLength(1);
      const remove = takeOne.buttons.flat().find((b) => b.label === 'Remove')!;
      expect(remove.action).toMatch(/^remove:/);

      // The session's owner is no moderator: the button and the command answer the same sentence.
      const refusal = 'Only a moderator can remove a take; ask one of your server or workspace moderators.';
      expect((await h().driver.click(thread, ana, remove.action)).error?.message).toBe(refusal);
      const typed = await h().driver.sendCommand(h().channel, ben, 'remove', { take: 'v1#1' }, { thread });
      expect(typed.error?.message).toBe(refusal);
      expectOneSentence(typed.error?.message);
      expect(rig().deleted).toEqual([]);

      const removed = await h().driver.click(thread, mod, remove.action);
      expect(removed.error).toBeUndefined();
      expect(removed.ephemeral).toBe('Removed v1#1: its files are deleted and 1 message now shows a note instead.');
      expect(rig().deleted.sort()).toEqual([`${job.jobId}-take1.mp4`, `${job.jobId}-take1.png`]);

      const shown = await h().driver.readThread(thread);
      const note = shown.find((m) => m.id === takeOne.id)!;
      expect(note.text).toBe(`Take 1 of v1 was removed by ${who}.`);
      expect(note.attachments).toEqual([]);
      expect(note.buttons.flat()).toEqual([]);
      const takeTwo = shown.find((m) => m.text.startsWith('Take 2 of v1'))!;
      expect(takeTwo.attachments).toHaveLength(1);
      expect(shown.flatMap((m) => m.buttons.flat().map((b) => b.label))).not.toContain('Vote 1');

      // The take has left every command that names takes, with one sentence each.
      const finalize = await h().driver.sendCommand(h().channel, ana, 'finalize', { take: 1 }, { thread });
      expect(finalize.error?.message).toBe(`Take 1 of v1 was removed by ${who}; pick take 2.`);
      const extend = await h().driver.sendCommand(h().channel, ana, 'extend', { take: 'v1#1' }, { thread });
      expect(extend.error?.message).toBe(`v1#1 was removed by ${who}; pick v1#2.`);
      expectOneSentence(extend.error?.message);
      expect(rig().queue.jobs).toHaveLength(1);

      // Asking again (a second press, a retried delivery) finishes nothing twice.
      const again = await h().driver.sendCommand(h().channel, mod, 'remove', { take: 'v1#1' }, { thread });
      expect(again.error).toBeUndefined();
      expect(again.ephemeral).toBe(`v1#1 was already removed by ${who}; its files are deleted and its messages show the note.`);
      const after = await h().driver.readThread(thread);
      expect(after.filter((m) => m.text.includes('was removed by'))).toHaveLength(1);
      expect(after).toHaveLength(shown.length);
    });
  });
}
