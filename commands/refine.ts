import { DailiesError } from '../src/errors.ts';
import { defineCommand } from '../src/core/command-context.ts';
import { parseRefinement } from '../src/core/refine-grammar.ts';
import { refineSession } from '../src/core/refine-flow.ts';
import { optionsObject } from '../src/core/command-options.ts';
import { requireSession } from './session-guard.ts';
import { z } from 'zod';

/**
 * /refine <text>: the thread-reply grammar as a command, for platforms or servers where the bot
 * cannot read message content (Discord without the MESSAGE_CONTENT intent).
 */
export const refineCommand = defineCommand({
  name: 'refine',
  description: 'Change the prompt with the reply grammar (e.g. "on a blue background", "seed: 7", "again").',
  options: optionsObject({
    // The grammar checks length and characters itself, with the same sentences as replies get.
    text: z.string({ error: 'text must be text of 1 to 1000 characters.' }).max(20_000, { error: 'text must be text of 1 to 1000 characters.' }),
  }),
  async handler(ctx, o) {
    const session = requireSession(ctx, 'refine');
    const parsed = parseRefinement(o.text, { maxTakes: ctx.config.maxTakes });
    if (!parsed.ok) throw new DailiesError('bad_input', parsed.error);
    return refineSession(ctx, session, parsed.edit);
  },
});
