import { describe, expect, it } from 'vitest';
import type { ChatAdapterHarness } from '../conformance/chat-adapter.conformance.ts';
import { coreRigPerTest } from './core-rig.ts';
import { expectOneSentence } from './film-commands.suite.ts';
import type { ShownTime } from './shown-times.ts';

/** A platform with a moderator, and the way a person is named in a command option there. */
export interface BlockHarness extends ChatAdapterHarness {
  /** A driver-side handle the platform counts as a moderator (Discord Manage Messages, a Slack admin, a DAILIES_LOCAL_MODERATORS name). */
  moderator: string;
  /** The option value picking `user` produces on the platform: a Discord user option, a Slack mention, a web chat name. */
  person(user: string): unknown;
  /** How the platform shows the core's times. */
  time: ShownTime;
}

/**
 * Moderators block a person from the bot for a while (/block, /unblock): the person's commands,
 * replies and button presses are refused with one sentence saying until when and why, and start
 * nothing; everyone else goes on. Run by test/local, test/discord and test/slack through their
 * real adapters and the real core; expiry and storage are tested in test/core/person-blocks.test.ts
 * and test/conformance/person-blocks.test.ts.
 */
export function describeBlocks(name: string, makeHarness: () => Promise<BlockHarness>): void {
  describe(`blocking a person from the bot: ${name}`, () => {
    const { h: harness, rig } = coreRigPerTest(makeHarness);
    const h = () => harness() as BlockHarness;
    const shown = (user: string) => h().displayName?.(user) ?? user;

    it("a moderator's block refuses the person's commands, replies and buttons until it is lifted; others go on", async () => {
      const [ana, ben] = h().users;
      const mo = h().moderator;
      const started = await h().driver.sendCommand(h().channel, ana, 'video', { prompt: 'a red circle', takes: 2 });
      expect(started.error).toBeUndefined();
      await rig().settle();
      const job = rig().queue.jobs.at(-1)!;
      await rig().finish(job);

      const before = Date.now();
      const blocked = await h().driver.sendCommand(h().channel, mo, 'block', { user: h().person(ben), for: '2h', reason: 'spamming renders' });
      expect(blocked.error).toBeUndefined();
      const confirmed = new RegExp(`^${shown(ben)} is blocked from dailies until (${h().time.pattern}): spamming renders\\.$`).exec(blocked.ephemeral ?? '');
      expect(confirmed, blocked.ephemeral).not.toBeNull();
      const until = confirmed![1]!;
      // Two hours from now, to the minute, in the form the platform shows in each reader's zone.
      const at = h().time.at(until);
      expect(at).toBeGreaterThanOrEqual(Math.floor((before + 2 * 3_600_000) / 60_000) * 60_000);
      expect(at).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000);

      const sentence = `You are blocked from dailies until ${until} by a moderator: spamming renders.`;
      const jobs = rig().queue.jobs.length;
      const video = await h().driver.sendCommand(h().channel, ben, 'video', { prompt: 'a blue square' });
      expect(video.error?.message).toBe(sentence);
      expectOneSentence(video.error?.message);
      const reply = await h().driver.sendReply(job.thread, ben, 'on a green background');
      expect(reply.error?.message).toBe(sentence);
      const posted = await h().driver.readThread(job.thread);
      const vote = posted.flatMap((m) => m.buttons.flat()).find((b) => b.label === 'Vote 1');
      expect(vote, JSON.stringify(posted.map((m) => [m.text, m.buttons]))).toBeDefined();
      const click = await h().driver.click(job.thread, ben, vote!.action);
      expect(click.error?.message).toBe(sentence);
      await rig().settle();
      expect(rig().queue.jobs.length).toBe(jobs);
      expect((await rig().store.getByThread(job.thread))!.versions).toHaveLength(1);

      // Everyone else goes on, and a moderator sees who is blocked until when.
      expect((await h().driver.sendCommand(h().channel, ana, 'video', { prompt: 'a blue square' })).error).toBeUndefined();
      const list = await h().driver.sendCommand(h().channel, mo, 'block', {});
      expect(list.ephemeral).toBe(`Blocked from dailies here:\n• ${shown(ben)} until ${until}, by ${shown(mo)}: spamming renders`);

      const unblocked = await h().driver.sendCommand(h().channel, mo, 'unblock', { user: h().person(ben) });
      expect(unblocked.ephemeral).toBe(`${shown(ben)} may use dailies again.`);
      expect((await h().driver.sendCommand(h().channel, ben, 'video', { prompt: 'a blue square' })).error).toBeUndefined();
      await rig().settle();
      expect(rig().queue.jobs.at(-1)!.request.prompt).toBe('a blue square');
      // His vote counts again, and the tally names him as the platform shows him.
      expect((await h().driver.click(job.thread, ben, vote!.action)).error).toBeUndefined();
      // The tally is an edit coalesced with the ones before it (ThreadPoster), so it comes a moment later.
      await expect
        .poll(async () => (await h().driver.readThread(job.thread)).find((m) => m.text.startsWith('Votes for v1'))?.text, { timeout: 10_000 })
        .toContain(`take 1: 1 vote (${shown(ben)})`);
    });

    it('refuses /block from anyone but a moderator, a bad length and a self-block, each with one sentence', async () => {
      const [ana, ben] = h().users;
      const mo = h().moderator;
      const notMod = await h().driver.sendCommand(h().channel, ana, 'block', { user: h().person(ben), for: '1d' });
      expect(notMod.error?.message).toBe('Only a moderator can block people from dailies or see who is blocked; ask one of your server or workspace moderators.');
      const badLength = await h().driver.sendCommand(h().channel, mo, 'block', { user: h().person(ben), for: 'soon' });
      expect(badLength.error?.message).toBe('for must be a length of time such as 30m, 2h, 1d or 7d.');
      const tooLong = await h().driver.sendCommand(h().channel, mo, 'block', { user: h().person(ben), for: '100d' });
      expect(tooLong.error?.message).toBe('for must be from 1 minute to 90 days (90d); "100d" is too long.');
      const self = await h().driver.sendCommand(h().channel, mo, 'block', { user: h().person(mo), for: '1h' });
      expect(self.error?.message).toBe('You cannot block yourself; name someone else.');
      for (const refusal of [notMod, badLength, tooLong, self]) expectOneSentence(refusal.error?.message);
      // Nothing was blocked: Ben still renders.
      expect((await h().driver.sendCommand(h().channel, ben, 'video', { prompt: 'a red circle' })).error).toBeUndefined();
    });
  });
}
