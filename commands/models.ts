import { defineCommand } from '../src/core/command-context.ts';
import { optionsObject } from '../src/core/command-options.ts';
import { describeModels } from '../src/core/model-choice.ts';

/** /models: the models the worker pool renders with right now, their workers, line and speed. */
export const modelsCommand = defineCommand({
  name: 'models',
  description: 'List the models you can render with, with their workers, waiting jobs and speed.',
  options: optionsObject({}),
  async handler(ctx) {
    const thread = ctx.session?.thread;
    const text = ctx.models ? describeModels(await ctx.models.list(), ctx.clock.now()) : 'This server renders with one model; /video uses it.';
    return { ...(thread ? { thread } : {}), ephemeral: text };
  },
});
