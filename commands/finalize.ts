import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { finalizeTake } from '../src/core/take-flow.ts';
import { intOption, optionsObject } from '../src/core/command-options.ts';
import { requireSession } from './session-guard.ts';

/** /finalize take:<n>: the owner or a moderator renders a take of the newest render at final quality. */
export const finalizeCommand = defineCommand({
  name: 'finalize',
  description: 'Render a take at final quality (session owner or moderator).',
  options: optionsObject({ take: intOption('take', 1, 4) }),
  async handler(ctx, o) {
    const session = requireSession(ctx, 'finalize');
    if (o.take === undefined) throw new DailiesError('bad_input', 'take must be a whole number from 1 to 4.');
    return finalizeTake(ctx, session, o.take - 1);
  },
});
