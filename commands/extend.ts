import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { extendTake } from '../src/core/take-flow.ts';
import { intOption, numberOption, optionsObject } from '../src/core/command-options.ts';
import { requireSession } from './session-guard.ts';

/** /extend take:<n> [frames|duration]: continues a finished take of the newest render. */
export const extendCommand = defineCommand({
  name: 'extend',
  description: 'Continue a take: render what happens next, keeping its last frames.',
  options: optionsObject({
    take: intOption('take', 1, 4),
    frames: intOption('frames', 1, 128),
    duration: numberOption('duration', 0.25, 16),
  }),
  async handler(ctx, o) {
    const session = requireSession(ctx, 'extend');
    if (o.take === undefined) throw new DailiesError('bad_input', 'take must be a whole number from 1 to 4.');
    if (o.frames !== undefined && o.duration !== undefined) throw new DailiesError('bad_input', 'Give either frames or duration, not both.');
    const frames = o.frames ?? (o.duration !== undefined ? Math.min(ctx.config.maxFrames, Math.max(1, Math.round(o.duration * ctx.config.fps))) : undefined);
    return extendTake(ctx, session, o.take - 1, frames);
  },
});
