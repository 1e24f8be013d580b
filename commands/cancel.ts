import { defineCommand } from '../src/core/command-context.ts';
import { cancelJobs } from '../src/core/take-flow.ts';
import { optionsObject } from '../src/core/command-options.ts';
import { requireSession } from './session-guard.ts';

/** /cancel: the owner or a moderator stops every unfinished render of the session. */
export const cancelCommand = defineCommand({
  name: 'cancel',
  description: "Cancel this session's unfinished renders (session owner or moderator).",
  options: optionsObject({}),
  async handler(ctx) {
    return cancelJobs(ctx, requireSession(ctx, 'cancel'));
  },
});
