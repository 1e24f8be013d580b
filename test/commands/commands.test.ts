import { afterEach, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.ts';
import { findCommand as findIn } from '../../src/core/app.ts';
const findCommand = (name: string) => findIn(commands, name);
import { optionsError } from '../../src/core/command-options.ts';
import { MemorySettingsStore } from '../../src/storage/memory-settings-store.ts';
import { fakeModels } from '../core/fakes/fake-models.ts';
import { alice, bob, harness, takes } from '../core/fakes/harness.ts';

/** A take reference's two refusals: not text or a number, or text that is not `v2#1` / `1`. */
const TAKE_REF = (name: string) => new RegExp(`^${name} (must be a take reference such as v2#1 or 1|"[^"]*" is not a take reference; write v2#1 for take 1 of version 2, or 1 for take 1 of the newest version)\\.$`, 's');

/** Option names and the one-sentence rule each must report, per command. */
const OPTION_RULES: Record<string, Record<string, RegExp>> = {
  video: {
    prompt: /^prompt (must be text of 1 to 1000 characters|is empty; add one, e\.g\. "a red circle moving left on a black background"|is \d+ characters, over the 1000 limit; shorten it|contains broken characters .*)\.$/,
    negative: /^negative (must be text of at most 1000 characters|is \d+ characters, over the 1000 limit; shorten it|contains broken characters .*)\.$/,
    seed: /^seed must be a whole number from 0 to 2147483647\.$/,
    takes: /^takes must be a whole number from 1 to 4\.$/,
    frames: /^frames must be a whole number from 1 to 4800\.$/,
    duration: /^duration must be a number from 0\.1 to 600\.$/,
    steps: /^steps must be a whole number from 1 to 150\.$/,
    guidance: /^guidance must be a number from 0 to 30\.$/,
    strength: /^strength must be a number from 0 to 1\.$/,
    image: /^image must be an attached image file\.$/,
    model: /^model (must be text of at most 100 characters|is \d+ characters, over the 100 limit; shorten it|contains broken characters .*)\.$/,
  },
  extend: {
    take: TAKE_REF('take'),
    frames: /^frames must be a whole number from 1 to 4800\.$/,
    duration: /^duration must be a number from 0\.1 to 600\.$/,
    direction: /^direction must be forward or backward\.$/,
  },
  bridge: { from: TAKE_REF('from'), to: TAKE_REF('to'), duration: /^duration must be a number from 0\.1 to 600\.$/, frames: /^frames must be a whole number from 1 to 4800\.$/ },
  storyboard: {
    shots: /^shots (must be text of 1 to 12100 characters|is \d+ characters, over the 12100 limit; shorten it|contains broken characters .*)\.$/,
    style: /^style (must be text of at most 300 characters|is \d+ characters, over the 300 limit; shorten it|contains broken characters .*)\.$/,
    negative: /^negative (must be text of at most 1000 characters|is \d+ characters, over the 1000 limit; shorten it|contains broken characters .*)\.$/,
    takes: /^takes must be a whole number from 1 to 4\.$/,
    duration: /^duration must be a number from 0\.1 to 600\.$/,
    seed: /^seed must be a whole number from 0 to 2147483647\.$/,
    model: /^model (must be text of at most 100 characters|is \d+ characters, over the 100 limit; shorten it|contains broken characters .*)\.$/,
  },
  cut: { transition: /^transition must be cut, fade or bridge\.$/ },
  vary: { take: /^take must be a whole number from 1 to 4\.$/, takes: /^takes must be a whole number from 1 to 4\.$/ },
  finalize: { take: /^take must be a whole number from 1 to 4\.$/ },
  refine: { text: /^text (must be text of 1 to 1000 characters|is \d+ characters, over the 1000 limit; shorten it)\.$/ },
  status: {},
  cancel: {},
  history: {},
  quota: {},
  models: {},
  gallery: {},
  settings: {
    takes: /^takes must be a whole number from 1 to 4\.$/,
    steps: /^steps must be a whole number from 1 to 150\.$/,
    duration: /^duration must be a number from 0\.1 to 600\.$/,
    model: /^model (must be text of at most 100 characters|is \d+ characters, over the 100 limit; shorten it|contains broken characters .*)\.$/,
    style: /^style (must be text of at most 300 characters|is \d+ characters, over the 300 limit; shorten it|contains broken characters .*)\.$/,
    negative: /^negative (must be text of at most 1000 characters|is \d+ characters, over the 1000 limit; shorten it|contains broken characters .*)\.$/,
    channel: /^channel must be true or false\.$/,
    clear: /^clear (must be text of at most 100 characters|is \d+ characters, over the 100 limit; shorten it|contains broken characters .*)\.$/,
  },
  policy: { action: /^action must be list, add or remove\.$/, term: /^term (must be text of at most 60 characters|is \d+ characters, over the 60 limit; shorten it|contains broken characters .*)\.$/ },
  block: {
    user: /^user must be one person, such as @Ben\.$/,
    for: /^for must be (a length of time such as 30m, 2h, 1d or 7d|from 1 minute to 90 days \(90d\); "\d+\s*[a-z]+" is too (short|long))\.$/,
    reason: /^reason (must be text of at most 200 characters|is \d+ characters, over the 200 limit; shorten it|contains broken characters .*)\.$/,
  },
  unblock: { user: /^user must be one person, such as @Ben\.$/ },
  why: {},
  remove: { take: TAKE_REF('take') },
  info: { take: TAKE_REF('take') },
  help: {},
};

const HOSTILE: unknown[] = [
  'abc',
  '',
  '   ',
  '-1',
  -1,
  -0.5,
  1.5,
  '1.5',
  1e308,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '9'.repeat(400),
  'x'.repeat(1_000_000),
  '\uD800',
  'ok \uDFFF',
  {},
  { valueOf: () => 3 },
  [],
  [2],
  true,
  false,
  null,
  () => 1,
  Symbol('s'),
  10n,
  new Date(0),
];

function sentences(text: string): number {
  return text.split(/(?<=[.!?])\s+(?=[A-Z])/).length;
}

describe('command registry', () => {
  it('has one definition per command with a name, description, zod options and a handler', () => {
    expect(commands.map((c) => c.name)).toEqual(['video', 'refine', 'vary', 'extend', 'bridge', 'storyboard', 'cut', 'finalize', 'status', 'cancel', 'history', 'quota', 'gallery', 'models', 'settings', 'policy', 'remove', 'block', 'unblock', 'why', 'info', 'help']);
    for (const c of commands) {
      expect(c.description.length).toBeGreaterThan(10);
      expect(c.description.length).toBeLessThanOrEqual(100);
      expect(typeof c.options.safeParse).toBe('function');
      expect(typeof c.handler).toBe('function');
    }
  });

  it('finds commands by name, ignoring case and a leading slash', () => {
    expect(findCommand('/Video')?.name).toBe('video');
    expect(findCommand(' finalize ')?.name).toBe('finalize');
    expect(findCommand('nope')).toBeUndefined();
    expect(findCommand(undefined as unknown as string)).toBeUndefined();
  });
});

describe('option schemas under fuzz', () => {
  for (const command of commands) {
    const rules = OPTION_RULES[command.name]!;
    const base: Record<string, unknown> = command.name === 'video' ? { prompt: 'a cat' } : command.name === 'refine' ? { text: 'again' } : command.name === 'storyboard' ? { shots: 'a | b' } : {};

    it(`/${command.name}: every hostile value gives one sentence naming the option and what it accepts, never a throw`, () => {
      for (const [option, rule] of Object.entries(rules)) {
        for (const value of HOSTILE) {
          const parsed = command.options.safeParse({ ...base, [option]: value });
          if (parsed.success) {
            // Accepted values are the documented coercions (empty means "not given") and must be in range.
            const v = (parsed.data as Record<string, unknown>)[option];
            if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
            continue;
          }
          const message = optionsError(command.name, parsed.error).message;
          expect(message, `${command.name}.${option} = ${String(typeof value === 'symbol' ? 'symbol' : typeof value === 'string' ? value.slice(0, 20) : value)}`).toMatch(rule);
          expect(sentences(message)).toBe(1);
        }
      }
    });

    it(`/${command.name}: whole-options garbage is refused in one sentence`, () => {
      for (const garbage of ['str', 42, [1, 2], true, () => 1]) {
        const parsed = command.options.safeParse(garbage);
        expect(parsed.success).toBe(false);
        if (!parsed.success) expect(optionsError(command.name, parsed.error).message).toBe('The command options must be a set of named values.');
      }
      expect(command.options.safeParse(undefined).success).toBe(!['video', 'refine', 'storyboard'].includes(command.name));
    });
  }

  it('coerces numbers sent as strings and cleans text', () => {
    const video = findCommand('video')!;
    const parsed = video.options.safeParse({ prompt: '  a\u00a0cat \n on a  mat ', seed: ' 42 ', takes: '3', guidance: '7.5', strength: '0', negative: '' });
    expect(parsed.success && parsed.data).toEqual({ prompt: 'a cat on a mat', seed: 42, takes: 3, guidance: 7.5, strength: 0, negative: '' });
    expect(video.options.safeParse({ prompt: '🎬'.repeat(1000) }).success).toBe(true);
    expect(video.options.safeParse({ prompt: '🎬'.repeat(1001) }).success).toBe(false);
    expect(video.options.safeParse({ prompt: 'e\u0301' }).success && video.options.parse({ prompt: 'e\u0301' })).toMatchObject({ prompt: 'é' });
  });
});

describe('command handlers through the dispatcher', () => {
  let h: ReturnType<typeof harness>;
  afterEach(async () => h?.delivery.stop());

  it('answers hostile options with a bad_input outcome, creating nothing', async () => {
    h = harness({ core: { settings: new MemorySettingsStore(), models: fakeModels() } });
    for (const command of commands) {
      for (const value of HOSTILE.slice(0, 12)) {
        const options = Object.fromEntries(Object.keys(OPTION_RULES[command.name]!).map((k) => [k, value]));
        const out = await h.core(h.command(command.name, options));
        if (out.error) {
          // A value that parses reaches the handler, which may refuse the person instead (/policy is for moderators).
          expect(['bad_input', 'forbidden']).toContain(out.error.code);
          expect(sentences(out.error.message)).toBe(1);
        }
      }
    }
    await h.admission.idle();
    expect(h.queue.jobs).toHaveLength(0);
  });

  it('runs /vary, /extend, /finalize and /refine in a session thread', async () => {
    h = harness();
    h.delivery.start();
    const out = await h.core(h.command('video', { prompt: 'a red ball', takes: '2' }));
    const thread = out.thread!;
    expect((await h.core(h.command('finalize', { take: 1 }, alice, thread))).error?.message).toBe('This session has no finished takes yet; wait for the render to finish.');
    h.queue.emit({ type: 'completed', jobId: 'j1', takes: takes(2), timingsMs: {} });
    await h.settle(2000);
    expect((await h.core(h.command('vary', { take: '2', takes: '3' }, bob, thread))).error).toBeUndefined();
    await h.admission.idle();
    expect(h.queue.jobs.at(-1)?.request).toMatchObject({ takes: 3, image: { artifact: { key: 'p1.png' } } });
    expect((await h.core(h.command('extend', { take: 1, duration: '2' }, bob, thread))).error).toBeUndefined();
    await h.admission.idle();
    expect(h.queue.jobs.at(-1)?.request).toMatchObject({ frames: 16, extend: { artifact: { key: 'v0.mp4' }, direction: 'forward' } });
    expect((await h.core(h.command('extend', {}, bob, thread))).error?.message).toBe('take is missing; write v2#1 for take 1 of version 2, or 1 for take 1 of the newest version.');
    expect((await h.core(h.command('finalize', { take: 4 }, alice, thread))).error?.message).toBe('v1 has no take 4; pick take 1 to 2.');
    expect((await h.core(h.command('finalize', { take: 2 }, bob, thread))).error?.code).toBe('forbidden');
    expect((await h.core(h.command('refine', { text: 'on a blue background' }, bob, thread))).ephemeral).toBe("v4 is rendering: added 'on a blue background'.");
    expect((await h.core(h.command('refine', { text: 'seed: x' }, bob, thread))).error?.message).toBe('seed: must be a whole number from 0 to 2147483647, or random.');
    expect((await h.core(h.command('refine', { text: 'x'.repeat(1001) }, bob, thread))).error?.message).toBe('Your reply is 1001 characters long; keep it to 1000 or fewer.');
    expect((await h.core(h.command('refine', { text: 'takes: 1' }, bob, thread))).ephemeral).toBe('From now on, renders in this session make 1 take.');
  });

  it('refuses an image when no image intake is configured, and passes one through when it is', async () => {
    h = harness();
    const image = { url: 'https://cdn.discordapp.com/a.png', filename: 'a.png', contentType: 'image/png', bytes: 10 };
    expect((await h.core(h.command('video', { prompt: 'animate this', image }))).error?.message).toBe('Animating an image is not enabled on this server; send the prompt without an image.');
    await h.delivery.stop();
    const seen: unknown[] = [];
    h = harness({ core: { images: async (att, platform) => (seen.push([att.url, platform]), { key: 'inputs/a.png', bytes: 10, contentType: 'image/png' }) } });
    const event = { ...h.command('video', { prompt: 'animate this', strength: '0.4' }), attachments: [image] };
    expect((await h.core(event)).error).toBeUndefined();
    expect(seen).toEqual([[image.url, 'local']]);
    await h.admission.idle();
    expect(h.queue.jobs[0]?.request.image).toEqual({ artifact: { key: 'inputs/a.png', bytes: 10, contentType: 'image/png' }, strength: 0.4 });
  });
});
