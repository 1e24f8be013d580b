import { defineCommand } from '../src/core/command-context.ts';
import { historyText } from '../src/core/render-message.ts';
import { optionsObject } from '../src/core/command-options.ts';
import { requireSession } from './session-guard.ts';

/** /history: the prompt lineage, with what changed in each version. */
export const historyCommand = defineCommand({
  name: 'history',
  description: 'Show every version of the prompt and what changed in each.',
  options: optionsObject({}),
  async handler(ctx) {
    const session = requireSession(ctx, 'history');
    return { thread: session.thread, ephemeral: historyText(session) };
  },
});
