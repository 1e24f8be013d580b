import { describe, expect, it } from 'vitest';
import { createPromptPolicy } from '../../src/safety/prompt-policy.ts';
import { MemorySettingsStore } from '../../src/storage/memory-settings-store.ts';
import { alice, bob, mod, startedHarnesses } from './fakes/harness.ts';
import { fakeModels } from './fakes/fake-models.ts';

const make = startedHarnesses();
const withSettings = () => {
  const settings = new MemorySettingsStore();
  return { settings, h: make({ core: { settings, models: fakeModels(), policy: createPromptPolicy({ blockedTerms: ['gore'] }) } }) };
};

describe('/settings and channel defaults', () => {
  it('fills what /video leaves out from yours, then the channel\'s, and says which it used', async () => {
    const { h } = withSettings();
    expect((await h.core(h.command('settings', { takes: 1, style: 'pixel art', model: 'big-t2v' }))).ephemeral).toBe('Your defaults are now: takes 1, model Big-T2V, style "pixel art".');
    expect((await h.core(h.command('settings', { channel: true, steps: 20, takes: 3, negative: 'blurry' }, mod))).ephemeral).toBe("This channel's defaults are now: takes 3, steps 20, negative \"blurry\".");

    const out = await h.core(h.command('video', { prompt: 'a red ball' }));
    expect(out.ephemeral).toBe('Started "a red ball" with 1 take on Big-T2V in a new thread (from your settings: takes 1, model Big-T2V, style "pixel art"; from the channel\'s: steps 20, negative "blurry").');
    await h.settle();
    const job = h.queue.jobs.at(-1)!;
    expect(job.request).toMatchObject({ prompt: 'a red ball, pixel art', takes: 1, steps: 20, negativePrompt: 'blurry' });
    expect(job.model).toBe('Big-T2V');

    // What the command says wins; someone without defaults of their own gets the channel's.
    const typed = await h.core(h.command('video', { prompt: 'a blue ball', takes: 2, negative: 'noise' }));
    expect(typed.ephemeral).toBe('Started "a blue ball" with 2 takes on Big-T2V in a new thread (from your settings: model Big-T2V, style "pixel art"; from the channel\'s: steps 20).');
    const bobs = await h.core(h.command('video', { prompt: 'a green ball' }, bob));
    expect(bobs.ephemeral).toBe('Started "a green ball" with 3 takes in a new thread (from the channel\'s: takes 3, steps 20, negative "blurry").');
    await h.settle();
    expect(h.queue.jobs.at(-1)!.request).toMatchObject({ prompt: 'a green ball', takes: 3, steps: 20 });
  });

  it('keeps a style in the session: a reply renders with it too', async () => {
    const { h } = withSettings();
    await h.core(h.command('settings', { style: 'pixel art' }));
    const out = await h.core(h.command('video', { prompt: 'a red ball', takes: 1 }));
    await h.settle();
    h.queue.emit({ type: 'completed', jobId: h.queue.jobs.at(-1)!.jobId, takes: [], timingsMs: {} });
    await h.settle();
    expect((await h.core(h.reply(out.thread!, 'on a blue background'))).error).toBeUndefined();
    await h.settle();
    expect(h.queue.jobs.at(-1)!.request.prompt).toBe('a red ball, on a blue background, pixel art');
  });

  it('a saved duration sets the length unless the command gives one; storyboards use the defaults too', async () => {
    const { h } = withSettings();
    await h.core(h.command('settings', { duration: 4, takes: 1 }));
    await h.core(h.command('video', { prompt: 'a red ball' }));
    await h.settle();
    expect(h.queue.jobs.at(-1)!.request.frames).toBe(32);
    await h.core(h.command('video', { prompt: 'a red ball', frames: 8 }));
    await h.settle();
    expect(h.queue.jobs.at(-1)!.request.frames).toBe(8);
    const board = await h.core(h.command('storyboard', { shots: 'a | b' }));
    expect(board.ephemeral).toBe('Started a storyboard of 2 shots with 1 take each in a new thread (from your settings: takes 1, duration 4 s); vote per shot, then /cut.');
  });

  it('shows both scopes, and clears what it is told to', async () => {
    const { h } = withSettings();
    expect((await h.core(h.command('settings', {}))).ephemeral).toBe(
      "Your defaults: none saved.\nThis channel's: none saved.\n/video and /storyboard use what you type, then your defaults, then the channel's, then the server's. Change yours with /settings takes:2 style:\"pixel art\"; remove them with /settings clear:style or clear:all.",
    );
    await h.core(h.command('settings', { takes: 2, style: 'pixel art', negative: 'blurry' }));
    expect((await h.core(h.command('settings', { clear: 'style, negative' }))).ephemeral).toBe('Your defaults are now: takes 2.');
    expect((await h.core(h.command('settings', { clear: 'all' }))).ephemeral).toBe('Your defaults are now: none saved.');
  });

  it('refuses each bad value with one sentence and saves nothing', async () => {
    const { h, settings } = withSettings();
    const refusals: [Record<string, unknown>, string, string, typeof alice?][] = [
      [{ takes: 9 }, 'bad_input', 'takes must be a whole number from 1 to 4.'],
      [{ steps: 0 }, 'bad_input', 'steps must be a whole number from 1 to 150.'],
      [{ duration: 90 }, 'bad_input', 'duration 90 s is over the 60 s limit; ask for 60 s or less.'],
      [{ model: 'sora' }, 'bad_input', 'No worker renders with "sora"; /models lists the models you can use.'],
      [{ style: 'lots of gore' }, 'policy_refused', 'Your prompt was refused because it mentions "gore", which this server does not allow; rephrase it without that term.'],
      [{ clear: 'colour' }, 'bad_input', 'clear must name defaults to remove (takes, steps, duration, model, style, negative or all), not "colour".'],
      [{ channel: 'maybe' }, 'bad_input', 'channel must be true or false.'],
      [{ channel: true, takes: 2 }, 'forbidden', "Only a moderator can change this channel's defaults; change your own with /settings and leave out channel."],
    ];
    for (const [options, code, message] of refusals) {
      const out = await h.core(h.command('settings', { takes: 1, ...options }));
      expect(out.error, JSON.stringify(options)).toMatchObject({ code, message });
    }
    expect(await settings.read('person:local:u-alice', 'channel:local:general')).toEqual({ person: {}, channel: {} });
  });

  it('without a settings store, /settings says so and /video uses the built-in defaults', async () => {
    const h = make();
    expect((await h.core(h.command('settings', { takes: 1 }))).error?.message).toBe('Saved defaults are not enabled on this server; give takes, steps and the rest with each /video.');
    expect((await h.core(h.command('video', { prompt: 'a red ball' }))).ephemeral).toBe('Started "a red ball" with 2 takes in a new thread.');
  });
});
