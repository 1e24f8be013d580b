import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { refineSession, startSession } from '../src/core/refine-flow.ts';
import { MAX_SEED } from '../src/core/refine-grammar.ts';
import { attachmentOption, durationOption, intOption, numberOption, optionalText, optionsObject, textOption } from '../src/core/command-options.ts';
import { checkLength } from '../src/core/video-length.ts';

/**
 * /video <prompt>: in a channel, opens a session thread and renders v1; inside a session thread,
 * makes the next version with the given prompt (and negative/seed when given).
 */
export const videoCommand = defineCommand({
  name: 'video',
  description: 'Start a video session: a thread where the team refines the prompt and votes on takes.',
  options: optionsObject({
    prompt: textOption('prompt', 1, undefined, '"a red circle moving left on a black background"'),
    negative: optionalText('negative'),
    seed: intOption('seed', 0, MAX_SEED),
    takes: intOption('takes', 1, 4),
    frames: intOption('frames', 1, 4800),
    duration: durationOption('duration'),
    steps: intOption('steps', 1, 150),
    guidance: numberOption('guidance', 0, 30),
    strength: numberOption('strength', 0, 1),
    image: attachmentOption(),
  }),
  async handler(ctx, o) {
    const frames = checkLength(ctx.config, o);
    if (ctx.session) {
      return refineSession(ctx, ctx.session, { kind: 'form', prompt: o.prompt, ...(o.negative !== undefined ? { negativePrompt: o.negative } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) });
    }
    if (ctx.event.kind !== 'command') throw new DailiesError('bad_input', 'Start a video with the /video command.');
    const image = o.image ?? ctx.event.attachments?.[0];
    return startSession(ctx, ctx.event, {
      prompt: o.prompt,
      negativePrompt: o.negative ?? '',
      takes: Math.min(o.takes ?? ctx.config.defaultTakes, ctx.config.maxTakes),
      strength: o.strength ?? 0.7,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.steps !== undefined ? { steps: o.steps } : {}),
      ...(o.guidance !== undefined ? { guidance: o.guidance } : {}),
      ...(frames !== undefined ? { frames } : {}),
      ...(image ? { image } : {}),
    });
  },
});
