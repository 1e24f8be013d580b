import { DailiesError } from '../src/errors.ts';
import { auditActor, recordAudit } from '../src/core/audit.ts';
import { channelIdOf, defineCommand } from '../src/core/command-context.ts';
import { booleanOption, durationOption, intOption, optionalText, optionsObject } from '../src/core/command-options.ts';
import { pickModel } from '../src/core/model-choice.ts';
import { screenPrompts } from '../src/core/prompt-screen.ts';
import { DEFAULT_NAMES, checkSaved, describeDefaults, savedDefaults, settingsScopes } from '../src/core/render-defaults.ts';
import type { DefaultName, SavedDefaults } from '../src/core/ports/settings-store.ts';
import { checkLength } from '../src/core/video-length.ts';

/**
 * /settings: shows and changes your render defaults, or (moderators, `channel:true`) the
 * channel's. /video and /storyboard use what you type first, then yours, then the channel's,
 * then the server's. Every value is checked as /video would check it, so a saved default can
 * never make a later /video fail; `clear:` removes defaults (`clear:style,negative`, `clear:all`).
 */
export const settingsCommand = defineCommand({
  name: 'settings',
  description: "Show or change your render defaults: takes, steps, duration, model, style, negative.",
  options: optionsObject({
    takes: intOption('takes', 1, 4),
    steps: intOption('steps', 1, 150),
    duration: durationOption('duration'),
    model: optionalText('model', 100),
    style: optionalText('style', 300),
    negative: optionalText('negative'),
    channel: booleanOption('channel'),
    clear: optionalText('clear', 100),
  }),
  async handler(ctx, o) {
    const thread = ctx.session?.thread;
    const answer = (ephemeral: string) => ({ ...(thread ? { thread } : {}), ephemeral });
    if (!ctx.settings) throw new DailiesError('unavailable', 'Saved defaults are not enabled on this server; give takes, steps and the rest with each /video.');
    const forChannel = o.channel === true;
    if (forChannel && ctx.user.canModerate !== true) {
      throw new DailiesError('forbidden', "Only a moderator can change this channel's defaults; change your own with /settings and leave out channel.");
    }
    const clear = parseClear(o.clear);
    const set: SavedDefaults = {};
    if (o.takes !== undefined) set.takes = Math.min(o.takes, ctx.config.maxTakes);
    if (o.steps !== undefined) set.steps = o.steps;
    if (o.duration !== undefined) {
      checkLength(ctx.config, { duration: o.duration });
      set.duration = o.duration;
    }
    if (o.model !== undefined) set.model = await pickModel(ctx, o.model);
    if (o.style !== undefined) set.style = o.style;
    if (o.negative !== undefined) set.negative = o.negative;
    // 1. Nothing to change: show both scopes.
    if (Object.keys(set).length === 0 && clear.length === 0) {
      const saved = await savedDefaults(ctx);
      return answer(
        [
          `Your defaults: ${describeDefaults(saved.person) || 'none saved'}.`,
          `This channel's: ${describeDefaults(saved.channel) || 'none saved'}.`,
          '/video and /storyboard use what you type, then your defaults, then the channel\'s, then the server\'s. Change yours with /settings takes:2 style:"pixel art"; remove them with /settings clear:style or clear:all.',
        ].join('\n'),
      );
    }
    // 2. A style or negative is checked as prompts are, before it is saved.
    if (set.style !== undefined || set.negative !== undefined) await screenPrompts(ctx, [{ prompt: set.style ?? '', negativePrompt: set.negative ?? '' }]);
    const scopes = settingsScopes(ctx);
    const now = checkSaved(await ctx.settings.change(forChannel ? scopes.channel : scopes.person, set, clear));
    const whose = forChannel ? "This channel's defaults" : 'Your defaults';
    if (forChannel) {
      recordAudit(ctx.audit, { at: ctx.clock.now(), kind: 'policy', platform: ctx.event.platform, channelId: channelIdOf(ctx), actor: auditActor(ctx.user), what: `channel defaults now: ${describeDefaults(now) || 'none'}` }, ctx.log);
    }
    return answer(`${whose} are now: ${describeDefaults(now) || 'none saved'}.`);
  },
});

/** `clear:style, negative` or `clear:all`; an unknown name is one sentence listing the names. */
function parseClear(text: string | undefined): DefaultName[] {
  if (text === undefined) return [];
  const names = text.toLowerCase().split(/[\s,]+/).filter(Boolean);
  if (names.includes('all')) return [...DEFAULT_NAMES];
  const unknown = names.find((n) => !DEFAULT_NAMES.includes(n as DefaultName));
  if (unknown !== undefined) throw new DailiesError('bad_input', `clear must name defaults to remove (${DEFAULT_NAMES.join(', ')} or all), not "${unknown}".`);
  return names as DefaultName[];
}
