import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPromptCheck, type LoadedPromptCheck } from '../../models/prompt-check/onnx-prompt-check.ts';
import type { PromptCheck } from '../../src/core/ports/prompt-check.ts';
import { PROMPT_CHECK_TIMEOUT_MS } from '../../src/core/prompt-screen.ts';
import { createPromptPolicy } from '../../src/safety/prompt-policy.ts';
import { bob, startedHarnesses } from './fakes/harness.ts';

/**
 * The core's prompt check stage with the test classifier (real tokenizer and onnxruntime): every
 * way a prompt gets stored is checked before the write, the term lists first, and a classifier
 * that reads one text while another gets stored never lets it through. The refusals on each
 * chat platform are in test/local/safety.suite.ts.
 */

const REFUSAL = 'This prompt was refused by the prompt classifier (test-flag 0.99 ≥ 0.80); rephrase it.';
const make = startedHarnesses();

describe('the prompt check stage', () => {
  let classifier: LoadedPromptCheck;
  beforeAll(async () => {
    classifier = await loadPromptCheck('test/fixtures/prompt-check-colour', { threads: 1 });
  });
  afterAll(async () => classifier?.close());

  it('refuses the edit form, the /video form in a thread and a new storyboard shot, storing nothing', async () => {
    const h = make({ core: { promptCheck: classifier } });
    const started = await h.core(h.command('video', { prompt: 'a red ball bouncing' }));
    const thread = started.thread!;
    await h.settle();
    const form = await h.core(h.action(thread, 'edit-prompt-submit:s1', bob, { prompt: 'a purple ball', negative: '' }));
    expect(form.error).toEqual({ code: 'policy_refused', message: REFUSAL });
    const negative = await h.core(h.command('video', { prompt: 'a red ball bouncing', negative: 'Purple' }, undefined, thread));
    expect(negative.error?.message).toBe('This negative prompt was refused by the prompt classifier (test-flag 0.99 ≥ 0.80); rephrase it.');
    expect((await h.store.get('s1'))?.versions).toHaveLength(1);
    expect(h.queue.jobs).toHaveLength(1);

    const board = await h.core(h.command('storyboard', { shots: 'a red ball | a blue sky', style: 'on a black background', takes: 1 }));
    expect(board.error).toBeUndefined();
    await h.settle();
    const jobs = h.queue.jobs.length;
    const shot = await h.core(h.reply(board.thread!, 'shot 3: a purple sea', bob));
    expect(shot.error?.message).toBe(REFUSAL);
    // The style is part of what the model reads, so the classifier reads it too.
    const styled = await h.core(h.command('storyboard', { shots: 'a red ball | a blue sky', style: 'in purple light' }));
    expect(styled.error?.message).toBe(REFUSAL);
    await h.settle();
    expect(h.queue.jobs).toHaveLength(jobs);
  });

  it('asks the blocked terms first, so a term refusal names the term', async () => {
    const h = make({ core: { promptCheck: classifier, policy: createPromptPolicy({ blockedTerms: ['purple'] }) } });
    const out = await h.core(h.command('video', { prompt: 'a purple ball' }));
    expect(out.error?.message).toBe('Your prompt was refused because it mentions "purple", which this server does not allow; rephrase it without that term.');
  });

  it('turns a prompt away with one sentence when the classifier does not answer in time', async () => {
    const stuck: PromptCheck = { name: 'stuck', review: (_prompts, signal) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))) };
    const h = make({ core: { promptCheck: stuck } });
    const started = Date.now();
    const out = await h.core(h.command('video', { prompt: 'a red ball' }));
    expect(out.error).toEqual({ code: 'unavailable', message: 'The prompt check did not answer in time; send the prompt again in a moment.' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(PROMPT_CHECK_TIMEOUT_MS - 50);
    expect(h.adapter.threads).toHaveLength(0);
  }, 10_000);

  it('never stores a prompt other than the one it read: an edit that lands while a reply is checked makes the reply try again', async () => {
    let interleave: (() => Promise<unknown>) | null = null;
    // The real classifier; while it reads the first reply, another reply lands in the thread.
    const racing: PromptCheck = {
      name: classifier.name,
      review: async (prompts, signal) => {
        const verdict = await classifier.review(prompts, signal);
        const other = interleave;
        interleave = null;
        if (other) await other();
        return verdict;
      },
    };
    const h = make({ core: { promptCheck: racing } });
    const started = await h.core(h.command('video', { prompt: 'a red ball bouncing' }));
    const thread = started.thread!;
    await h.settle();
    interleave = () => h.core(h.reply(thread, 'on a blue background', bob));
    const out = await h.core(h.reply(thread, 'slowly', bob));
    expect(out.error).toEqual({ code: 'conflict', message: 'The prompt changed while your change was being checked; send it again to build on the new prompt.' });
    const versions = (await h.store.get('s1'))!.versions;
    expect(versions.map((v) => v.prompt)).toEqual(['a red ball bouncing', 'a red ball bouncing, on a blue background']);
  });
});
