import { defineCommand } from '../src/core/command-context.ts';
import { helpText } from '../src/core/render-message.ts';
import { optionsObject } from '../src/core/command-options.ts';

/** /help: worded for where it is typed, a channel (how to start) or a session's thread (what to do there). */
export const helpCommand = defineCommand({
  name: 'help',
  description: 'How to make, refine and vote on videos.',
  options: optionsObject({}),
  async handler(ctx) {
    const thread = ctx.session?.thread;
    return { ...(thread ? { thread } : {}), ephemeral: helpText(ctx.commands, thread ? 'thread' : 'channel') };
  },
});
