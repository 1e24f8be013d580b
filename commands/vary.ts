import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { varyTake } from '../src/core/take-flow.ts';
import { intOption, optionsObject } from '../src/core/command-options.ts';
import { requireSession } from './session-guard.ts';

/** /vary take:<n> [takes]: new seeds starting from a finished take. */
export const varyCommand = defineCommand({
  name: 'vary',
  description: 'Render variations of a take with new seeds.',
  options: optionsObject({
    take: intOption('take', 1, 4),
    takes: intOption('takes', 1, 4),
  }),
  async handler(ctx, o) {
    const session = requireSession(ctx, 'vary');
    if (o.take === undefined) throw new DailiesError('bad_input', 'take must be a whole number from 1 to 4.');
    return varyTake(ctx, session, o.take - 1, o.takes ?? session.settings.takes);
  },
});
