import { describe, expect, it } from 'vitest';
import type { RenderJob, TakeResult } from '../../src/core/ports/job-queue.ts';
import { actionKey } from '../../src/core/actions.ts';
import { MemoryAuditLog } from '../../src/storage/memory-audit-log.ts';
import { alice, artifact, bob, harness, mod, startedHarnesses, type Harness } from './fakes/harness.ts';

/**
 * A moderator's removal through the dispatcher with fake seams: everything that carried the
 * take's files (its post, the previews that showed it, its final, a film cut from it) is found
 * from the session alone, the vote forgets it, the audit log records it, and asking again after a
 * restart finishes the same removal instead of starting another. The platforms' side of it is in
 * test/local/moderation.suite.ts and the conformance suite.
 */

const make = startedHarnesses();

/** Takes whose files have keys of their own per job, as the worker stores them. */
function stored(job: RenderJob): TakeResult[] {
  return Array.from({ length: job.request.takes }, (_, i) => ({
    index: i,
    seed: job.request.seed + i,
    video: artifact(`renders/${job.jobId}/take${i}.mp4`),
    preview: artifact(`renders/${job.jobId}/take${i}.png`, 100, 'image/png'),
    frames: 16,
    fps: 8,
  }));
}

async function complete(h: Harness, job: RenderJob): Promise<void> {
  h.queue.emit({ type: 'completed', jobId: job.jobId, takes: stored(job), timingsMs: {} });
  await h.settle(2000);
}

function removals() {
  const deleted: string[] = [];
  return { deleted, artifacts: { delete: async (key: string) => void deleted.push(key) } };
}

describe('removing a take', () => {
  it('takes down the take, its previews\' files and its final, drops its votes, and records who did it', async () => {
    const audit = new MemoryAuditLog();
    const files = removals();
    const h = make({ core: { audit, artifacts: files.artifacts } });
    const out = await h.core(h.command('video', { prompt: 'a red circle', takes: 2 }));
    const thread = out.thread!;
    await h.settle();
    const job = h.queue.jobs.at(-1)!;
    h.queue.emit({ type: 'preview', jobId: job.jobId, step: 4, totalSteps: 8, previews: [artifact(`renders/${job.jobId}/step4-t0.png`, 10, 'image/png'), artifact(`renders/${job.jobId}/step4-t1.png`, 10, 'image/png')] });
    await h.settle();
    await complete(h, job);
    const session = (await h.store.getByThread(thread))!;
    const round = session.rounds[0]!;
    await h.core(h.action(thread, actionKey({ type: 'vote', sessionId: session.id, roundId: round.id, take: 1 }), bob));
    expect((await h.core(h.command('finalize', { take: 2 }, alice, thread))).error).toBeUndefined();
    await h.settle();
    const final = h.queue.jobs.at(-1)!;
    await complete(h, final);

    const removed = await h.core(h.action(thread, actionKey({ type: 'remove', sessionId: session.id, jobId: job.jobId, take: 1 }), mod));
    expect(removed.error).toBeUndefined();
    // The preview rode on the progress message, which let go of it when the job ended: only its file is left to delete.
    expect(removed.ephemeral).toBe('Removed v1#2 with the final of v1#2: its files are deleted and 2 messages now show a note instead.');
    expect(files.deleted.sort()).toEqual([`renders/${final.jobId}/take0.mp4`, `renders/${final.jobId}/take0.png`, `renders/${job.jobId}/step4-t1.png`, `renders/${job.jobId}/take1.mp4`, `renders/${job.jobId}/take1.png`].sort());

    const texts = h.adapter.postsIn(thread).map((p) => h.adapter.latest(p));
    expect(texts.filter((m) => /removed by Mo/.test(m.text)).map((m) => m.text)).toEqual([
      'Take 2 of v1 was removed by Mo.',
      'The final of take 2 of v1 was removed by Mo.',
    ]);
    expect(texts.filter((m) => /removed by Mo/.test(m.text)).every((m) => !m.attachments?.length)).toBe(true);
    expect(texts.find((m) => m.text.startsWith('Take 1 of v1'))?.attachments).toHaveLength(1);

    // Out of the vote: Bob's vote no longer counts, and nobody can vote for it or pick it.
    const after = (await h.store.getByThread(thread))!;
    expect(after.rounds[0]!.votes).toEqual({});
    expect(after.rounds[0]!.removed).toEqual([1]);
    await h.settle(5000);
    const tallyShown = h.adapter.postsIn(thread).map((p) => h.adapter.latest(p)).find((m) => m.text.startsWith('Votes for v1'));
    expect(tallyShown?.text).toMatch(/^Votes for v1: take 1: 0 votes · take 2: removed\n/);
    const vote = await h.core(h.action(thread, actionKey({ type: 'vote', sessionId: session.id, roundId: round.id, take: 1 }), bob));
    expect(vote.error?.message).toBe('Take 2 was removed by a moderator; vote for one of the posted takes.');
    const pick = await h.core(h.action(thread, actionKey({ type: 'pick', sessionId: session.id, roundId: round.id, take: 1 }), alice));
    expect(pick.error?.message).toBe('Take 2 was removed by a moderator; pick one of the posted takes.');
    expect((await h.core(h.command('bridge', { from: 'v1#1', to: 'v1#2' }, alice, thread))).error?.message).toBe('v1#2 was removed by Mo; pick v1#1.');

    await h.settle();
    const entries = (await audit.list({ since: 0 })).filter((e) => e.kind === 'removal');
    expect(entries.map((e) => [e.actor?.name, e.what, e.jobId])).toEqual([['Mo', 'v1#2 with the final of v1#2', job.jobId]]);

    // A restarted bot (a new core on the same store) finds the removal done and redoes only the idempotent steps.
    const restarted = harness({ store: h.store, core: { audit, artifacts: files.artifacts } });
    restarted.adapter.adoptThread(thread);
    // Event ids are the platform's and never repeat: this harness's counter starts again, so name it.
    const again = await restarted.core({ ...restarted.command('remove', { take: 'v1#2' }, mod, thread), id: 'after-restart' });
    expect(again.ephemeral).toBe('v1#2 was already removed by Mo; its files are deleted and its messages show the note.');
    expect((await audit.list({ since: 0 })).filter((e) => e.kind === 'removal')).toHaveLength(1);
  });

  it('takes down a film cut from the take, and refuses people who do not moderate with one sentence', async () => {
    const files = removals();
    const h = make({ core: { artifacts: files.artifacts } });
    const out = await h.core(h.command('storyboard', { shots: 'a red circle | a blue square', takes: 1 }));
    const thread = out.thread!;
    await h.settle();
    for (const job of [...h.queue.jobs]) await complete(h, job);
    expect((await h.core(h.command('cut', {}, alice, thread))).error).toBeUndefined();
    await h.settle();
    const cut = h.queue.jobs.at(-1)!;
    await complete(h, cut);

    const refused = await h.core(h.command('remove', { take: 'v1#1' }, alice, thread));
    expect(refused.error).toEqual({ code: 'forbidden', message: 'Only a moderator can remove a take; ask one of your server or workspace moderators.' });
    expect(files.deleted).toEqual([]);

    const removed = await h.core(h.command('remove', { take: 'v1#1' }, mod, thread));
    expect(removed.ephemeral).toBe('Removed v1#1 with cut 1: its files are deleted and 2 messages now show a note instead.');
    const shown = h.adapter.postsIn(thread).map((p) => h.adapter.latest(p));
    expect(shown.filter((m) => m.text.startsWith('Film'))).toEqual([]);
    expect(shown.find((m) => m.text.startsWith('Cut 1 was removed'))).toEqual({ text: 'Cut 1 was removed by Mo: it used v1#1.' });
    expect(files.deleted).toContain(`renders/${cut.jobId}/take0.mp4`);
    expect((await h.core(h.command('remove', { take: 'v9#1' }, mod, thread))).error?.message).toBe('There is no v9 in this thread; pick one of v1–v2.');
  });
});
