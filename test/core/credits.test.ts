import { describe, expect, it } from 'vitest';
import { creditsLine } from '../../src/core/credits.ts';
import { alice, bob, mod, startVideo, startedHarnesses, takes } from './fakes/harness.ts';

const make = startedHarnesses();

/** A session with v1 by Alice, v2 by Bob, Mo voting for take 2 of v2: the credits of its final. */
async function refinedAndVoted(h: ReturnType<typeof make>) {
  const { thread, jobId } = await startVideo(h, { prompt: 'a red ball', takes: 2 });
  h.queue.emit({ type: 'completed', jobId, takes: takes(2, 1000), timingsMs: {} });
  await h.settle(2000);
  expect((await h.core(h.reply(thread, 'on a blue background', bob))).error).toBeUndefined();
  await h.settle();
  const v2 = h.queue.jobs.at(-1)!;
  h.queue.emit({ type: 'completed', jobId: v2.jobId, takes: takes(2, 2000), timingsMs: {} });
  await h.settle(2000);
  const session = (await h.store.getByThread(thread))!;
  const round = session.rounds.find((r) => r.jobId === v2.jobId)!;
  expect((await h.core(h.action(thread, `vote:${session.id}:${round.id}:1`, mod))).error).toBeUndefined();
  expect((await h.core(h.action(thread, `vote:${session.id}:${round.id}:0`, bob))).error).toBeUndefined();
  return { thread, v2 };
}

describe("a final's Content Credentials", () => {
  it('carry the lineage of the take and everyone who made it, recorded with the finalize job', async () => {
    const h = make();
    const { thread, v2 } = await refinedAndVoted(h);
    expect((await h.core(h.action(thread, `finalize:s1:${v2.jobId}:1`, alice))).error).toBeUndefined();
    await h.settle();
    const credits = h.queue.jobs.at(-1)!.request.credits!;
    expect(credits).toEqual({
      title: 'a red ball, on a blue background',
      take: { version: 2, take: 2 },
      lineage: [
        { version: 1, prompt: 'a red ball', author: { id: alice.id, name: 'Alice' }, change: 'first version', parent: null },
        { version: 2, prompt: 'a red ball, on a blue background', author: { id: bob.id, name: 'Bob' }, change: expect.any(String), parent: { version: 1 } },
      ],
      contributors: [
        { person: { id: alice.id, name: 'Alice' }, roles: ['prompted', 'finalized'] },
        { person: { id: bob.id, name: 'Bob' }, roles: ['revised'] },
        { person: { id: mod.id, name: 'Mo' }, roles: ['voted'] },
      ],
    });
    // Bob voted for take 1, not the finalized take 2: he is credited for his revision only.
    expect(creditsLine(credits)).toBe('Content Credentials: signed; v1 by Alice → v2 by Bob; voted by Mo');
  });

  it("list a film's shots side by side, not as a chain", () => {
    const person = { id: 'u1', name: 'Ana' };
    const shot = (version: number) => ({ version, prompt: `shot ${version}`, author: person, change: `shot ${version}`, parent: null });
    expect(creditsLine({ title: 'Film', take: { version: 2, take: 1 }, lineage: [shot(1), shot(2)], contributors: [{ person, roles: ['prompted', 'finalized'] }] })).toBe('Content Credentials: signed; v1 by Ana, v2 by Ana');
  });

  it('leave names out when the server says so', async () => {
    const h = make({ core: { config: { quorum: 3, voteWindowMs: 600_000, creditNames: false } } });
    const { thread, v2 } = await refinedAndVoted(h);
    await h.core(h.action(thread, `finalize:s1:${v2.jobId}:1`, alice));
    await h.settle();
    const credits = h.queue.jobs.at(-1)!.request.credits!;
    expect(credits.anonymous).toBe(true);
    expect(creditsLine(credits)).toBe('Content Credentials: signed; 2 versions, 3 contributors');
  });

  it('show in the final message of a signed final only', async () => {
    const h = make();
    const { thread, v2 } = await refinedAndVoted(h);
    await h.core(h.action(thread, `finalize:s1:${v2.jobId}:1`, alice));
    await h.settle();
    const final = h.queue.jobs.at(-1)!;
    h.queue.emit({ type: 'completed', jobId: final.jobId, takes: [{ ...takes(1, 2001)[0]!, signed: true }], timingsMs: {} });
    await h.settle(2000);
    const posted = h.adapter.posts.find((p) => p.message.text.startsWith('Final · take 2 of v2'))!;
    expect(posted.message.text).toBe('Final · take 2 of v2 · seed 2001\nContent Credentials: signed; v1 by Alice → v2 by Bob; voted by Mo');
    expect(posted.message.attachments?.[0]?.signed).toBe(true);
  });

  it("link the credentials page where the server has a public address (Discord's and Slack's posts)", async () => {
    const h = make({ delivery: { credentialsUrl: (platform, ref) => `https://dailies.example.com/credentials/${ref.key}?from=${platform}` } });
    const { thread, v2 } = await refinedAndVoted(h);
    await h.core(h.action(thread, `finalize:s1:${v2.jobId}:1`, alice));
    await h.settle();
    const final = h.queue.jobs.at(-1)!;
    const signed = { ...takes(1, 2001)[0]!, signed: true };
    h.queue.emit({ type: 'completed', jobId: final.jobId, takes: [signed], timingsMs: {} });
    await h.settle(2000);
    const posted = h.adapter.posts.find((p) => p.message.text.startsWith('Final · take 2 of v2'))!;
    expect(posted.message.text.split('\n')[1]).toBe(`Content Credentials: signed; v1 by Alice → v2 by Bob; voted by Mo · https://dailies.example.com/credentials/${signed.video.key}?from=local`);
  });
});
