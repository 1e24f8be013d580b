import { defineCommand } from '../src/core/command-context.ts';
import { optionsObject } from '../src/core/command-options.ts';
import { quotaKeys } from '../src/core/render-flow.ts';

/** /quota: what is left of today's render budgets (yours and the channel's), and when they reset. */
export const quotaCommand = defineCommand({
  name: 'quota',
  description: "Show what is left of today's render budget, yours and the channel's, and when it resets.",
  options: optionsObject({}),
  async handler(ctx) {
    const thread = ctx.session?.thread;
    if (!ctx.quota) return { ...(thread ? { thread } : {}), ephemeral: 'This server sets no daily render budgets; renders are limited only by the queue.' };
    const text = await ctx.quota.describe(quotaKeys(ctx), 'This channel', ctx.clock.now());
    return { ...(thread ? { thread } : {}), ephemeral: text };
  },
});
