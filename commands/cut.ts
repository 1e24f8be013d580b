import { defineCommand } from '../src/core/command-context.ts';
import { choiceOption, optionsObject } from '../src/core/command-options.ts';
import { cutFilm } from '../src/core/storyboard-flow.ts';
import { requireSession } from './session-guard.ts';

/** /cut [transition]: the storyboard's film from each shot's winning take. */
export const cutCommand = defineCommand({
  name: 'cut',
  description: "Assemble the storyboard's film from each shot's winning take (transition: cut, fade or bridge).",
  options: optionsObject({
    transition: choiceOption('transition', ['cut', 'fade', 'bridge']),
  }),
  async handler(ctx, o) {
    return cutFilm(ctx, requireSession(ctx, 'cut', 'a storyboard thread (the thread /storyboard opens)'), o.transition ?? 'cut');
  },
});
