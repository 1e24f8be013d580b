import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatAdapterHarness } from '../conformance/chat-adapter.conformance.ts';
import { coreRigPerTest } from './core-rig.ts';
import { expectOneSentence } from './film-commands.suite.ts';
import { loadPromptCheck, type LoadedPromptCheck } from '../../models/prompt-check/onnx-prompt-check.ts';
import { MemoryAuditLog } from '../../src/storage/memory-audit-log.ts';
import { eventOrigin } from '../../src/core/command-context.ts';

/** The test classifier (built by its committed script): "purple" scores 0.99 on label test-flag, blocked at 0.80. */
const PROMPT_CHECK_DIR = fileURLToPath(new URL('../fixtures/prompt-check-colour', import.meta.url));
const CLASSIFIER_REFUSAL = 'This prompt was refused by the prompt classifier (test-flag 0.99 ≥ 0.80); rephrase it.';

/**
 * What safety and provenance look like on a platform: a take the frame check withheld is a note
 * in the thread (never an attachment, never a vote button), the kept takes post as usual, /why
 * is for moderators, a signed final carries its Content Credentials line, and a prompt the
 * prompt classifier flags is refused with its rule before anything is made. Run by test/local,
 * test/discord and test/slack through their real adapters and the real core; the check and the
 * signing themselves are tested in test/safety, test/provenance and test/workers.
 */
export function describeSafety(name: string, makeHarness: () => Promise<ChatAdapterHarness>): void {
  describe(`frame check and Content Credentials in the thread: ${name}`, () => {
    const { h, rig } = coreRigPerTest(makeHarness);


    it('shows a withheld take as a note with its score, posts the others, and keeps /why for moderators', async () => {
      const ana = h().users[0];
      const started = await h().driver.sendCommand(h().channel, ana, 'video', { prompt: 'a blue circle on a red background', takes: 2 });
      expect(started.error).toBeUndefined();
      await rig().settle();
      const job = rig().queue.jobs.at(-1)!;
      await rig().finish(job, 16, [{ index: 1, seed: job.request.seed + 1, finding: { label: 'red', score: 0.78, threshold: 0.5 }, scores: { red: 0.78, other: 0.27 }, frames: 5 }]);

      const shown = await h().driver.readThread(job.thread);
      const note = shown.find((m) => m.text.includes('withheld by the frame check'));
      expect(note?.text).toBe('Take 2 of v1 was withheld by the frame check (red 0.78 ≥ 0.50); its files were never stored. A moderator can ask /why here.');
      expect(note?.attachments).toEqual([]);
      const takes = shown.filter((m) => /^Take \d of v1 · seed/.test(m.text));
      expect(takes.map((m) => m.text.slice(0, 13))).toEqual(['Take 1 of v1 ']);
      expect(takes[0]!.attachments).toHaveLength(1);
      // No message offers a vote for take 2.
      const labels = shown.flatMap((m) => m.buttons.flat().map((b) => b.label));
      expect(labels).toContain('Vote 1');
      expect(labels).not.toContain('Vote 2');

      const why = await h().driver.sendCommand(h().channel, ana, 'why', {}, { thread: job.thread });
      expect(why.error?.message).toBe('Only a moderator can see the frame check scores; ask one of your server or workspace moderators.');
      expectOneSentence(why.error?.message);
      const finalize = await h().driver.sendCommand(h().channel, ana, 'finalize', { take: 2 }, { thread: job.thread });
      expect(finalize.error?.message).toBe('Take 2 of v1 was withheld by the frame check; pick take 1.');
      expect(rig().queue.jobs).toHaveLength(1);
    });

    it('posts a signed final with the line that credits who made it', async () => {
      const ana = h().users[0];
      await h().driver.sendCommand(h().channel, ana, 'video', { prompt: 'a red circle', takes: 2 });
      await rig().settle();
      await rig().finish(rig().queue.jobs.at(-1)!);
      const thread = rig().queue.jobs.at(-1)!.thread;
      const asked = await h().driver.sendCommand(h().channel, ana, 'finalize', { take: 2 }, { thread });
      expect(asked.error).toBeUndefined();
      await rig().settle();
      const final = rig().queue.jobs.at(-1)!;
      expect(final.request.credits?.take).toEqual({ version: 1, take: 2 });
      await rig().finish(final, 16, [], { signed: true });
      const shown = await h().driver.readThread(thread);
      const message = shown.find((m) => m.text.startsWith('Final · take 2 of v1'))!;
      const who = h().displayName?.(ana) ?? ana;
      expect(message.text).toContain(`Content Credentials: signed; v1 by ${who}`);
      expect(message.attachments).toHaveLength(1);
    });

    it('answers /quota, in a channel, to the person who asked', async () => {
      const view = await h().driver.sendCommand(h().channel, h().users[0], 'quota', {});
      expect(view.error).toBeUndefined();
      expect(view.ephemeral).toBe('This server sets no daily render budgets; renders are limited only by the queue.');
    });

    it("keeps /policy (the channel's blocked terms) for moderators, with one sentence for anyone else", async () => {
      const view = await h().driver.sendCommand(h().channel, h().users[0], 'policy', { action: 'add', term: 'dragon' });
      expect(view.error?.message).toBe("Only a moderator can see or change this channel's blocked terms; ask one of your server or workspace moderators.");
      expectOneSentence(view.error?.message);
    });
  });

  describe(`the prompt check (a text classifier folder) refuses before anything is stored: ${name}`, () => {
    let check: LoadedPromptCheck;
    let audit: MemoryAuditLog;
    beforeAll(async () => {
      check = await loadPromptCheck(PROMPT_CHECK_DIR, { threads: 1 });
    });
    afterAll(async () => {
      await check?.close();
    });
    const { h, rig } = coreRigPerTest(makeHarness, () => {
      audit = new MemoryAuditLog();
      return { audit, promptCheck: check };
    });

    it('refuses a /video the classifier flags with the rule it broke, opens no thread, stores and queues nothing, and records the refusal', async () => {
      const ana = h().users[0];
      const refused = await h().driver.sendCommand(h().channel, ana, 'video', { prompt: 'a purple ball bouncing', takes: 2 });
      expect(refused.error?.message).toBe(CLASSIFIER_REFUSAL);
      expectOneSentence(refused.error?.message);
      await rig().settle();
      expect(rig().queue.jobs).toHaveLength(0);
      expect(rig().calls.filter((c) => c.method === 'startThread')).toHaveLength(0);
      const event = rig().events.at(-1)!;
      expect(await rig().store.getByOrigin(eventOrigin(event))).toBeNull();
      // The audit write is not awaited by the answer: poll briefly.
      let entries: Awaited<ReturnType<MemoryAuditLog['list']>> = [];
      for (let i = 0; i < 50 && entries.length === 0; i++) {
        entries = await audit.list({ since: 0 });
        if (entries.length === 0) await new Promise((r) => setTimeout(r, 10));
      }
      expect(entries.map((e) => [e.kind, e.code, e.what])).toEqual([['refusal', 'policy_refused', CLASSIFIER_REFUSAL]]);

      const negative = await h().driver.sendCommand(h().channel, ana, 'video', { prompt: 'a red ball', negative: 'purple' });
      expect(negative.error?.message).toBe('This negative prompt was refused by the prompt classifier (test-flag 0.99 ≥ 0.80); rephrase it.');
      expect(rig().queue.jobs).toHaveLength(0);
    });

    it('renders a clean prompt, then refuses a reply that adds the flagged word and keeps the thread at v1', async () => {
      const [ana, ben] = h().users;
      const started = await h().driver.sendCommand(h().channel, ana, 'video', { prompt: 'a red ball bouncing', takes: 2 });
      expect(started.error).toBeUndefined();
      await rig().settle();
      const job = rig().queue.jobs.at(-1)!;
      expect(job.request.prompt).toBe('a red ball bouncing');
      await rig().finish(job);
      const takes = (await h().driver.readThread(job.thread)).filter((m) => /^Take \d of v1 · seed/.test(m.text));
      expect(takes).toHaveLength(2);

      const reply = await h().driver.sendReply(job.thread, ben, 'on a purple background');
      expect(reply.error?.message).toBe(CLASSIFIER_REFUSAL);
      await rig().settle();
      expect(rig().queue.jobs).toHaveLength(1);
      expect((await rig().store.getByThread(job.thread))!.versions).toHaveLength(1);

      const clean = await h().driver.sendReply(job.thread, ben, 'on a blue background');
      expect(clean.error).toBeUndefined();
      await rig().settle();
      expect(rig().queue.jobs).toHaveLength(2);
      expect(rig().queue.jobs.at(-1)!.request.prompt).toBe('a red ball bouncing, on a blue background');
    });

    it('refuses a storyboard when one shot is flagged, with nothing made', async () => {
      const refused = await h().driver.sendCommand(h().channel, h().users[0], 'storyboard', { shots: 'a red ball | a purple cat | a blue sky' });
      expect(refused.error?.message).toBe(CLASSIFIER_REFUSAL);
      await rig().settle();
      expect(rig().queue.jobs).toHaveLength(0);
      expect(rig().calls.filter((c) => c.method === 'startThread')).toHaveLength(0);
    });
  });
}
