import { DailiesError } from '../src/errors.ts';
import type { CommandContext } from '../src/core/command-context.ts';
import type { Session } from '../src/core/session.ts';

/** Commands about a session only make sense inside its thread. */
export function requireSession(ctx: CommandContext, command: string, where = 'a session thread (the thread /video or /storyboard opens)'): Session {
  if (!ctx.session) {
    throw new DailiesError('bad_input', `Use /${command} inside ${where}; there is no session here.`);
  }
  return ctx.session;
}
