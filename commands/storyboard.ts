import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { MAX_SEED } from '../src/core/refine-grammar.ts';
import { durationOption, intOption, optionalText, optionsObject, textOption } from '../src/core/command-options.ts';
import { parseShots, startStoryboard } from '../src/core/storyboard-flow.ts';
import { checkLength } from '../src/core/video-length.ts';
import { withDefaults } from '../src/core/render-defaults.ts';

/** /storyboard shots:"a | b | c" [style] [takes] [duration per shot]: a thread of shots cut into one film. */
export const storyboardCommand = defineCommand({
  name: 'storyboard',
  description: 'Plan a film: shots separated by |, each rendered and voted on, then /cut into one video.',
  options: optionsObject({
    // Up to 12 shots of a full prompt each, plus separators.
    shots: textOption('shots', 1, 12_100),
    style: optionalText('style', 300),
    negative: optionalText('negative'),
    takes: intOption('takes', 1, 4),
    duration: durationOption('duration'),
    seed: intOption('seed', 0, MAX_SEED),
    model: optionalText('model', 100),
  }),
  async handler(ctx, o) {
    if (ctx.session) throw new DailiesError('bad_input', 'Start a storyboard with /storyboard in a channel; inside this thread, reply to refine instead.');
    if (ctx.event.kind !== 'command') throw new DailiesError('bad_input', 'Start a storyboard with the /storyboard command.');
    const shots = parseShots(o.shots, ctx.config.maxShots);
    // What the command leaves out comes from the person's saved defaults, then the channel's (/settings).
    const { values: d, note } = await withDefaults(ctx, { takes: o.takes, duration: o.duration, model: o.model, style: o.style, negative: o.negative }, false);
    const frames = checkLength(ctx.config, { duration: d.duration });
    return startStoryboard(ctx, ctx.event, {
      shots,
      style: d.style ?? '',
      negativePrompt: d.negative ?? '',
      takes: Math.min(d.takes ?? ctx.config.defaultTakes, ctx.config.maxTakes),
      ...(frames !== undefined ? { frames } : {}),
      ...(d.steps !== undefined ? { steps: d.steps } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(d.model !== undefined ? { model: d.model } : {}),
      ...(note ? { defaultsNote: note } : {}),
    });
  },
});
