import { describe, expect, it } from 'vitest';
import { describeModels } from '../../src/core/model-choice.ts';
import { startVideo, startedHarnesses, takes } from './fakes/harness.ts';
import { TWO_MODELS, fakeModels } from './fakes/fake-models.ts';

const make = startedHarnesses();
const NOW = Date.parse('2026-12-05T12:00:00Z');

const POOL = TWO_MODELS;
const catalog = fakeModels;

describe('picking a model', () => {
  it('records the model a session renders with, and every job of it carries the name as the pool spells it', async () => {
    const h = make({ core: { models: catalog(POOL) } });
    const out = await h.core(h.command('video', { prompt: 'a red ball', takes: 1, model: 'big-t2v' }));
    expect(out.error).toBeUndefined();
    expect(out.ephemeral).toBe('Started "a red ball" with 1 take on Big-T2V in a new thread.');
    await h.settle();
    expect(h.queue.jobs.at(-1)?.model).toBe('Big-T2V');
    const jobId = h.queue.jobs.at(-1)!.jobId;
    h.queue.emit({ type: 'completed', jobId, takes: takes(1), timingsMs: {} });
    await h.settle();
    // A reply refines on the same model.
    expect((await h.core(h.reply(out.thread!, 'on a blue background'))).error).toBeUndefined();
    await h.settle();
    expect(h.queue.jobs.at(-1)?.model).toBe('Big-T2V');
  });

  it('switches a session to another model with /video model: in its thread', async () => {
    const h = make({ core: { models: catalog(POOL) } });
    const { thread } = await startVideo(h, { prompt: 'a red ball', takes: 1 });
    expect(h.queue.jobs.at(-1)?.model).toBeUndefined();
    expect((await h.core(h.command('video', { prompt: 'a green ball', model: 'Big-T2V' }, undefined, thread))).error).toBeUndefined();
    await h.settle();
    expect(h.queue.jobs.at(-1)?.model).toBe('Big-T2V');
  });

  it('refuses a model no worker serves with one sentence, creating nothing', async () => {
    const h = make({ core: { models: catalog(POOL) } });
    const out = await h.core(h.command('video', { prompt: 'a red ball', model: 'sora' }));
    expect(out.error).toEqual(expect.objectContaining({ code: 'bad_input', message: 'No worker renders with "sora"; /models lists the models you can use.' }));
    expect(h.adapter.threads).toHaveLength(0);
    await h.settle();
    expect(h.queue.jobs).toHaveLength(0);
    const board = await h.core(h.command('storyboard', { shots: 'a | b', model: 'sora' }));
    expect(board.error?.message).toBe('No worker renders with "sora"; /models lists the models you can use.');
    expect(h.adapter.threads).toHaveLength(0);
  });

  it('without a catalog (one model), model: is refused and /models says so', async () => {
    const h = make();
    expect((await h.core(h.command('video', { prompt: 'a red ball', model: 'x' }))).error?.message).toBe('This server renders with one model; leave out model:.');
    expect((await h.core(h.command('models', {}))).ephemeral).toBe('This server renders with one model; /video uses it.');
  });

  it('/models lists each model with its workers, line and speed, the default first', async () => {
    const h = make({ core: { models: catalog(POOL) } });
    const out = await h.core(h.command('models', {}));
    expect(out.ephemeral).toContain('• shapes-v1 (default): 1 worker (2 render slots), 1 waiting, about 4.2 s a render');
    expect(describeModels(POOL, NOW).split('\n')).toEqual([
      'Models you can render with (pick one with model:<name> on /video or /storyboard):',
      '• shapes-v1 (default): 1 worker (2 render slots), 1 waiting, about 4.2 s a render',
      '• Big-T2V: no worker right now (last seen 5 minutes ago), 3 waiting',
    ]);
    expect(describeModels([{ ...POOL[0]!, workers: 0, slots: 0, lastSeenAt: null, waiting: 0 }], NOW)).toContain('• shapes-v1 (default): no worker has started yet');
  });
});
