import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { DEFAULT_IMAGE_STRENGTH, refineSession, startSession } from '../src/core/refine-flow.ts';
import { MAX_SEED } from '../src/core/refine-grammar.ts';
import { attachmentOption, durationOption, intOption, numberOption, optionalText, optionsObject, textOption } from '../src/core/command-options.ts';
import { checkLength } from '../src/core/video-length.ts';
import { pickModel } from '../src/core/model-choice.ts';
import { withDefaults } from '../src/core/render-defaults.ts';

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
    model: optionalText('model', 100),
  }),
  async handler(ctx, o) {
    const frames = checkLength(ctx.config, o);
    if (ctx.session) {
      // In a session's thread, model: switches the session's model from this version on.
      if (o.model !== undefined) await ctx.store.updateSettings(ctx.session.id, { model: await pickModel(ctx, o.model) });
      // An image given here replaces the session's still from this version on.
      const still = o.image ?? (ctx.event.kind === 'command' ? ctx.event.attachments?.[0] : undefined);
      return refineSession(ctx, ctx.session, { kind: 'form', prompt: o.prompt, ...(o.negative !== undefined ? { negativePrompt: o.negative } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) }, still && { attachment: still, ...(o.strength !== undefined ? { strength: o.strength } : {}) });
    }
    if (ctx.event.kind !== 'command') throw new DailiesError('bad_input', 'Start a video with the /video command.');
    const image = o.image ?? ctx.event.attachments?.[0];
    // What the command leaves out comes from the person's saved defaults, then the channel's (/settings).
    const given = { takes: o.takes, steps: o.steps, model: o.model, negative: o.negative };
    const { values: d, note } = await withDefaults(ctx, given, frames !== undefined);
    const length = frames ?? (d.duration !== undefined ? checkLength(ctx.config, { duration: d.duration }) : undefined);
    return startSession(ctx, ctx.event, {
      prompt: o.prompt,
      negativePrompt: d.negative ?? '',
      takes: Math.min(d.takes ?? ctx.config.defaultTakes, ctx.config.maxTakes),
      strength: o.strength ?? DEFAULT_IMAGE_STRENGTH,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(d.steps !== undefined ? { steps: d.steps } : {}),
      ...(o.guidance !== undefined ? { guidance: o.guidance } : {}),
      ...(length !== undefined ? { frames: length } : {}),
      ...(image ? { image } : {}),
      ...(d.model !== undefined ? { model: d.model } : {}),
      ...(d.style !== undefined ? { style: d.style } : {}),
      ...(note ? { defaultsNote: note } : {}),
    });
  },
});
