import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { optionsObject, takeRefOption } from '../src/core/command-options.ts';
import { removeTake } from '../src/core/take-removal.ts';
import { requireSession } from './session-guard.ts';

/**
 * /remove take:<ref> (moderators): takes a take down for good. Its files are deleted, every
 * message that carried them (its post, its final, a film cut from it, its previews) shows a note
 * instead, and it leaves the vote; the Remove button on a take does the same.
 */
export const removeCommand = defineCommand({
  name: 'remove',
  description: 'Moderators: remove a take (its files are deleted and its posts replaced by a note).',
  options: optionsObject({ take: takeRefOption('take') }),
  async handler(ctx, o) {
    const session = requireSession(ctx, 'remove');
    if (!o.take) throw new DailiesError('bad_input', 'take is missing; write v2#1 for take 1 of version 2, or 1 for take 1 of the newest version.');
    return removeTake(ctx, session, o.take);
  },
});
