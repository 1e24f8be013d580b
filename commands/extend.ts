import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { extendTake } from '../src/core/take-flow.ts';
import { choiceOption, durationOption, intOption, optionsObject, takeRefOption } from '../src/core/command-options.ts';
import { checkLength } from '../src/core/video-length.ts';
import { resolveTakeRef } from '../src/core/take-ref.ts';
import { requireSession } from './session-guard.ts';

/** /extend take:<ref> [duration|frames] [direction]: makes a finished take longer, forward or leading into it. */
export const extendCommand = defineCommand({
  name: 'extend',
  description: 'Make a take longer: new frames after it (forward) or leading into it (backward).',
  options: optionsObject({
    take: takeRefOption('take'),
    frames: intOption('frames', 1, 4800),
    duration: durationOption('duration'),
    direction: choiceOption('direction', ['forward', 'backward']),
  }),
  async handler(ctx, o) {
    const session = requireSession(ctx, 'extend');
    if (!o.take) throw new DailiesError('bad_input', 'take is missing; write v2#1 for take 1 of version 2, or 1 for take 1 of the newest version.');
    const frames = checkLength(ctx.config, o) ?? ctx.config.defaultExtendFrames;
    return extendTake(ctx, session, resolveTakeRef(session, o.take), frames, o.direction ?? 'forward');
  },
});
