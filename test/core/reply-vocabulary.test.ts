import { describe, expect, it } from 'vitest';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { startedHarnesses, takes, type Harness } from './fakes/harness.ts';
import { TWO_MODELS, fakeModels } from './fakes/fake-models.ts';

const make = startedHarnesses();
const PROMPT = 'a red circle growing on a black background';

/** Starts a session (on `model`, or the default), lets its render finish, and returns its thread. */
async function session(h: Harness, model?: string): Promise<ThreadRef> {
  const out = await h.core(h.command('video', { prompt: PROMPT, takes: 1, ...(model ? { model } : {}) }));
  if (out.error || !out.thread) throw new Error(`/video was refused: ${out.error?.message}`);
  await h.settle();
  h.queue.emit({ type: 'completed', jobId: h.queue.jobs.at(-1)!.jobId, takes: takes(1), timingsMs: {} });
  await h.settle();
  return out.thread;
}

/** The prompt the reply's render was queued with, and the change its version records. */
async function reply(h: Harness, thread: ThreadRef, text: string): Promise<{ prompt: string; change: string | undefined }> {
  const out = await h.core(h.reply(thread, text));
  if (out.error) throw new Error(`the reply was refused: ${out.error.message}`);
  await h.settle();
  const versions = (await h.store.getByThread(thread))?.versions;
  return { prompt: h.queue.jobs.at(-1)!.request.prompt, change: versions?.at(-1)?.change };
}

// A reply is read in the words of the session's model, as the catalog has them from its workers.
describe("replies in the words of the session's model", () => {
  const catalog = () => fakeModels(TWO_MODELS, { 'shapes-v1': { motions: ['moving', 'growing', 'shrinking', 'still'] } });

  it('replaces a motion only that model knows: the default model, when the session names none', async () => {
    const h = make({ core: { models: catalog() } });
    const thread = await session(h);
    expect(await reply(h, thread, 'moving up')).toEqual({ prompt: 'a red circle moving up on a black background', change: "motion 'growing' -> 'moving up'" });
  });

  it('uses the built-in words for a session on a model that declares none, and without a catalog', async () => {
    const h = make({ core: { models: catalog() } });
    const thread = await session(h, 'Big-T2V');
    expect((await reply(h, thread, 'moving up')).prompt).toBe(`${PROMPT}, moving up`);
    const single = make();
    expect((await reply(single, await session(single), 'moving up')).prompt).toBe(`${PROMPT}, moving up`);
  });
});
