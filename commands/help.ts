import { defineCommand } from '../src/core/command-context.ts';
import { helpText } from '../src/core/render-message.ts';
import { optionsObject } from '../src/core/command-options.ts';

export const helpCommand = defineCommand({
  name: 'help',
  description: 'How to make, refine and vote on videos.',
  options: optionsObject({}),
  async handler(ctx) {
    return { ephemeral: helpText(ctx.commands) };
  },
});
