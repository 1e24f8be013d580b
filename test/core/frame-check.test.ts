import { describe, expect, it } from 'vitest';
import type { WithheldTake } from '../../src/core/ports/job-queue.ts';
import { alice, bob, mod, startVideo, startedHarnesses, takes } from './fakes/harness.ts';

const make = startedHarnesses();

function withheld(index: number, score = 0.93): WithheldTake {
  return { index, seed: 1000 + index, finding: { label: 'porn', score, threshold: 0.8 }, scores: { porn: score, neutral: 0.05, drawing: 0.02 }, frames: 5 };
}

/** The worker's end of a job whose takes in `held` the frame check withheld. */
async function complete(h: ReturnType<typeof make>, jobId: string, count: number, held: number[]) {
  const all = takes(count, 1000);
  h.queue.emit({ type: 'completed', jobId, takes: all.filter((t) => !held.includes(t.index)), withheld: held.map((i) => withheld(i)), timingsMs: {} });
  await h.settle(2000);
}

describe('takes the frame check withheld', () => {
  it('are stored on the job, noted in the thread, and left out of the vote', async () => {
    const h = make();
    const { thread, jobId } = await startVideo(h, { prompt: 'a red ball', takes: 3 });
    await complete(h, jobId, 3, [1]);
    const session = (await h.store.getByThread(thread))!;
    expect(session.jobs[0]!.withheld).toEqual([withheld(1)]);
    expect(session.rounds[0]).toMatchObject({ takes: 3, withheld: [1] });

    const texts = h.adapter.posts.map((p) => p.message.text);
    expect(texts).toContain('Take 2 of v1 was withheld by the frame check (porn 0.93 ≥ 0.80); its files were never stored. A moderator can ask /why here.');
    expect(texts.filter((t) => /^Take \d of v1 · seed/.test(t)).map((t) => t.slice(0, 12))).toEqual(['Take 1 of v1', 'Take 3 of v1']);

    const vote = await h.core(h.action(thread, 'vote:s1:1:1', bob));
    expect(vote.error?.message).toBe('Take 2 was withheld by the frame check; vote for one of the posted takes.');
    expect((await h.core(h.action(thread, 'vote:s1:1:2', bob))).ephemeral).toBe('You voted for take 3 of v1.');
    const pick = await h.core(h.action(thread, 'pick:s1:1:1', alice));
    expect(pick.error?.message).toBe('Take 2 was withheld by the frame check; pick one of the posted takes.');
    const extend = await h.core(h.command('extend', { take: 'v1#2' }, alice, thread));
    expect(extend.error?.message).toBe('v1#2 was withheld by the frame check; pick one of v1#1, v1#3.');
  });

  it('leave no vote round when every take was withheld', async () => {
    const h = make();
    const { thread, jobId } = await startVideo(h, { prompt: 'a red ball', takes: 2 });
    await complete(h, jobId, 2, [0, 1]);
    const session = (await h.store.getByThread(thread))!;
    expect(session.rounds).toEqual([]);
    expect(session.jobs[0]!.state).toBe('done');
    expect(h.adapter.posts.filter((p) => p.message.text.includes('withheld by the frame check'))).toHaveLength(2);
    expect(h.adapter.posts.some((p) => p.message.buttons?.flat().some((b) => b.label.startsWith('Vote')))).toBe(false);
  });

  it('/why shows moderators every label score, and refuses everyone else', async () => {
    const h = make();
    const { thread, jobId } = await startVideo(h, { prompt: 'a red ball', takes: 2 });
    expect((await h.core(h.command('why', {}, mod, thread))).ephemeral).toBe('The frame check has withheld nothing in this thread.');
    await complete(h, jobId, 2, [0]);
    const refused = await h.core(h.command('why', {}, alice, thread));
    expect(refused.error).toMatchObject({ code: 'forbidden', message: 'Only a moderator can see the frame check scores; ask one of your server or workspace moderators.' });
    const why = await h.core(h.command('why', {}, mod, thread));
    expect(why.ephemeral).toBe('Withheld by the frame check (highest score per label over the frames checked):\n• v1#1: porn 0.93 ≥ 0.80 over 5 frames · porn 0.93, neutral 0.05, drawing 0.02');
  });

});
