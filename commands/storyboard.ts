import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { MAX_SEED } from '../src/core/refine-grammar.ts';
import { durationOption, intOption, optionalText, optionsObject, textOption } from '../src/core/command-options.ts';
import { parseShots, startStoryboard } from '../src/core/storyboard-flow.ts';
import { checkLength } from '../src/core/video-length.ts';

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
    const frames = checkLength(ctx.config, { duration: o.duration });
    return startStoryboard(ctx, ctx.event, {
      shots,
      style: o.style ?? '',
      negativePrompt: o.negative ?? '',
      takes: Math.min(o.takes ?? ctx.config.defaultTakes, ctx.config.maxTakes),
      ...(frames !== undefined ? { frames } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.model !== undefined ? { model: o.model } : {}),
    });
  },
});
