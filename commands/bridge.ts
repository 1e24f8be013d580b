import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { durationOption, intOption, optionsObject, takeRefOption } from '../src/core/command-options.ts';
import { bridgeTakes } from '../src/core/take-flow.ts';
import { checkLength } from '../src/core/video-length.ts';
import { requireSession } from './session-guard.ts';

/** /bridge from:<ref> to:<ref> [duration]: a generated transition joining two takes. */
export const bridgeCommand = defineCommand({
  name: 'bridge',
  description: 'Join two takes with a generated transition: from, then new frames, then to.',
  options: optionsObject({
    from: takeRefOption('from'),
    to: takeRefOption('to'),
    duration: durationOption('duration'),
    frames: intOption('frames', 1, 4800),
  }),
  async handler(ctx, o) {
    const session = requireSession(ctx, 'bridge');
    if (!o.from || !o.to) throw new DailiesError('bad_input', `${o.from ? 'to' : 'from'} is missing; name both takes, e.g. from:v1#1 to:v2#1.`);
    return bridgeTakes(ctx, session, o.from, o.to, checkLength(ctx.config, o));
  },
});
