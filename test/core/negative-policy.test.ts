import { describe, expect, it } from 'vitest';
import { createPromptPolicy, negativeRefusalMessage } from '../../src/safety/prompt-policy.ts';
import { bob, startedHarnesses, type Harness } from './fakes/harness.ts';

/** Issue 11, item 5: the negative prompt is stored and shown, so the block list applies to it too. */

type H = Harness;
const make = startedHarnesses();

const policy = () => createPromptPolicy({ blockedTerms: ['forbiddenword'] });
const REFUSED = { code: 'policy_refused', message: negativeRefusalMessage('forbiddenword') };

describe('negative prompts under the policy', () => {
  it('/video negative: is refused before a thread opens', async () => {
    const h = make({ core: { policy: policy() } });
    const out = await h.core(h.command('video', { prompt: 'a calm lake', negative: 'f o r b i d d e n w o r d' }));
    expect(out.error).toEqual(REFUSED);
    expect(h.adapter.threads).toHaveLength(0);
  });

  it('the negative: reply and the /video form in a thread are refused too', async () => {
    const h = make({ core: { policy: policy() } });
    const started = await h.core(h.command('video', { prompt: 'a calm lake', negative: 'blurry' }));
    const thread = started.thread!;
    await h.settle();
    expect((await h.core(h.reply(thread, 'negative: forbidden\uFEFFword', bob))).error).toEqual(REFUSED);
    expect((await h.core(h.command('video', { prompt: 'a calm lake', negative: 'fоrbiddenwоrd' }, undefined, thread))).error).toEqual(REFUSED);
    expect((await h.store.get('s1'))?.versions).toHaveLength(1);
  });
});
