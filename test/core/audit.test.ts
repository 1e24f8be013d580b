import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditLog } from '../../src/core/ports/audit-log.ts';
import { createPromptPolicy } from '../../src/safety/prompt-policy.ts';
import { MemoryAuditLog } from '../../src/storage/memory-audit-log.ts';
import { alice, bob, quietLog, startVideo, startedHarnesses, takes } from './fakes/harness.ts';

const make = startedHarnesses();

/** A harness whose core and delivery write to one in-memory audit log. */
function audited(audit: AuditLog = new MemoryAuditLog()) {
  const h = make({ core: { audit, policy: createPromptPolicy({ blockedTerms: ['gore'] }) }, delivery: { audit } });
  const entries = () => audit.list({ since: 0 });
  return { h, audit, entries };
}

/** The fields a reader of the export looks at, without the ids the test does not care about. */
const brief = (e: AuditEntry) => ({ kind: e.kind, actor: e.actor?.name ?? null, what: e.what, ...(e.code ? { code: e.code } : {}) });

describe('the audit log', () => {
  it('records a /video, a reply, a vote and a pick with who and what', async () => {
    const { h, entries } = audited();
    const started = h.clock.now();
    const { thread, jobId } = await startVideo(h, { prompt: 'a red ball', negative: 'blur', takes: 2 });
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    expect((await h.core(h.action(thread, 'vote:s1:1:1', bob))).error).toBeUndefined();
    expect((await h.core(h.action(thread, 'vote:s1:1:0', bob))).error).toBeUndefined();
    expect((await h.core(h.action(thread, 'pick:s1:1:0', alice))).error).toBeUndefined();
    expect((await h.core(h.reply(thread, 'on a blue background', bob))).error).toBeUndefined();
    await h.settle();

    const all = await entries();
    expect(all.map(brief)).toEqual([
      { kind: 'prompt', actor: 'Alice', what: '"a red ball" (avoid "blur")' },
      { kind: 'vote', actor: 'Bob', what: 'take 2 of v1' },
      { kind: 'vote', actor: 'Bob', what: 'take 1 of v1 (moved from take 2)' },
      { kind: 'pick', actor: 'Alice', what: 'take 1 of v1' },
      { kind: 'revision', actor: 'Bob', what: `v2: take 1 of v1; added 'on a blue background' → "a red ball, on a blue background" (avoid "blur")` },
    ]);
    // Every entry says where it happened and which session and job it concerns.
    expect(all[0]).toMatchObject({ at: started, platform: 'local', channelId: thread.channelId, threadId: thread.threadId, sessionId: 's1', actor: { id: alice.id, name: 'Alice' }, jobId });
    expect(all[1]).toMatchObject({ sessionId: 's1', jobId, actor: { id: bob.id, name: 'Bob' } });
    expect(all[4]!.jobId).toBe(h.queue.jobs.at(-1)!.jobId);
  });

  it('records vary, extend and bridge as revisions, and a storyboard cut as a final', async () => {
    const { h, entries } = audited();
    const { thread, jobId } = await startVideo(h, { prompt: 'a red ball', takes: 2 });
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    expect((await h.core(h.command('vary', { take: 2 }, bob, thread))).error).toBeUndefined();
    expect((await h.core(h.command('extend', { take: 'v1#1' }, bob, thread))).error).toBeUndefined();
    expect((await h.core(h.command('bridge', { from: 'v1#1', to: 'v1#2' }, alice, thread))).error).toBeUndefined();
    const revisions = (await entries()).filter((e) => e.kind === 'revision').map(brief);
    expect(revisions.map((r) => r.actor)).toEqual(['Bob', 'Bob', 'Alice']);
    expect(revisions[0]!.what).toMatch(/^v2: variations of take 2 of v1/);
    expect(revisions[1]!.what).toMatch(/^v3: v1#1 extended forward by 2 s/);
    expect(revisions[2]!.what).toMatch(/^v4: bridge v1#1 -> v1#2/);

    const board = await h.core(h.command('storyboard', { shots: 'a red ball | a blue box', takes: 1 }));
    await h.settle();
    for (const job of h.queue.jobs.slice(-2)) h.queue.emit({ type: 'completed', jobId: job.jobId, takes: takes(1), timingsMs: {} });
    await h.settle(2000);
    expect((await h.core(h.command('cut', {}, alice, board.thread))).error).toBeUndefined();
    expect((await entries()).filter((e) => e.kind === 'finalize').map(brief)).toEqual([{ kind: 'finalize', actor: 'Alice', what: 'cut 1 (cut): shot 1: v1#1, shot 2: v2#1' }]);
  });

  it('records refusals with the sentence and its code, whichever path refused', async () => {
    const { h, entries } = audited();
    const refused = await h.core(h.command('video', { prompt: 'a gore scene' }, bob));
    expect(refused.error?.code).toBe('policy_refused');
    const { thread } = await startVideo(h, { prompt: 'a red ball', takes: 2 });
    const notOwner = await h.core(h.command('finalize', { take: 1 }, bob, thread));
    expect(notOwner.error?.code).toBeDefined();
    const badReply = await h.core(h.reply(thread, 'on a gore background', bob));
    expect(badReply.error?.code).toBe('policy_refused');

    const refusals = (await entries()).filter((e) => e.kind === 'refusal');
    expect(refusals.map(brief)).toEqual([
      { kind: 'refusal', actor: 'Bob', what: refused.error!.message, code: 'policy_refused' },
      { kind: 'refusal', actor: 'Bob', what: notOwner.error!.message, code: notOwner.error!.code },
      { kind: 'refusal', actor: 'Bob', what: badReply.error!.message, code: 'policy_refused' },
    ]);
    // A refused /video opened no thread: the entry names the channel it was typed in.
    expect(refusals[0]).toMatchObject({ platform: 'local', channelId: 'c1' });
    expect(refusals[0]!.threadId).toBeUndefined();
    expect(refusals[2]).toMatchObject({ channelId: thread.channelId, threadId: thread.threadId });
  });

  it('records a take the frame check withheld once, with no actor and the finding', async () => {
    const { h, entries } = audited();
    const { jobId } = await startVideo(h, { prompt: 'a red ball', takes: 3 });
    const completed = {
      type: 'completed' as const,
      jobId,
      takes: takes(3).filter((t) => t.index !== 1),
      withheld: [{ index: 1, seed: 1001, finding: { label: 'porn', score: 0.93, threshold: 0.8 }, scores: { porn: 0.93, neutral: 0.05 }, frames: 5 }],
      timingsMs: {},
    };
    h.queue.emit(completed);
    await h.settle(2000);
    // The queue delivering the end again posts nothing new, so records nothing new.
    h.queue.emit(completed);
    await h.settle(2000);
    const withheld = (await entries()).filter((e) => e.kind === 'withheld');
    expect(withheld).toEqual([{ at: expect.any(Number), kind: 'withheld', platform: 'local', channelId: 'c1', threadId: expect.any(String), sessionId: 's1', actor: null, what: 'v1#2: porn 0.93 ≥ 0.80', jobId }]);
  });

  it('records finalize and cancel, and a storyboard’s shots as its prompt', async () => {
    const { h, entries } = audited();
    const { thread, jobId } = await startVideo(h, { prompt: 'a red ball', takes: 2 });
    h.queue.emit({ type: 'completed', jobId, takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    expect((await h.core(h.action(thread, `finalize:s1:${jobId}:1`, alice))).error).toBeUndefined();
    await h.settle();
    const finalJob = h.queue.jobs.at(-1)!.jobId;
    expect(finalJob).not.toBe(jobId);
    expect((await h.core(h.action(thread, `cancel:${finalJob}`, alice))).ephemeral).toBe('Cancelled 1 render.');
    const board = await h.core(h.command('storyboard', { shots: 'a ball rolls | the ball stops', style: 'clay' }, bob));
    expect(board.error).toBeUndefined();
    await h.settle();

    expect((await entries()).slice(1).map(brief)).toEqual([
      { kind: 'finalize', actor: 'Alice', what: 'take 2 of v1' },
      { kind: 'cancel', actor: 'Alice', what: 'v1 (finalize, queued)' },
      { kind: 'prompt', actor: 'Bob', what: 'storyboard shot 1: "a ball rolls" | shot 2: "the ball stops" (style "clay")' },
    ]);
  });

  it('never fails the person’s action when the log cannot be written', async () => {
    const broken: AuditLog = {
      record: async () => {
        throw new Error('redis is down');
      },
      list: async () => [],
    };
    const throwing: AuditLog = {
      record: () => {
        throw new Error('not even a promise');
      },
      list: async () => [],
    };
    for (const audit of [broken, throwing]) {
      const { h } = audited(audit);
      quietLog.warnings.length = 0;
      const out = await h.core(h.command('video', { prompt: 'a red ball', takes: 2 }));
      expect(out.error).toBeUndefined();
      expect(out.thread).toBeDefined();
      expect((await h.core(h.command('video', { prompt: 'gore' }))).error?.code).toBe('policy_refused');
      await h.settle();
      expect(quietLog.warnings.filter((w) => w.includes('audit log'))).toEqual(['could not record a prompt in the audit log', 'could not record a refusal in the audit log']);
    }
  });

  it('keeps each entry to one line', async () => {
    const { h, entries } = audited();
    await startVideo(h, { prompt: 'a red ball\non a table', takes: 2 });
    const [prompt] = await entries();
    expect(prompt!.what).not.toMatch(/\n/);
  });
});
