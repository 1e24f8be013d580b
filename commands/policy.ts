import { channelIdOf, channelOf, defineCommand } from '../src/core/command-context.ts';
import { choiceOption, optionalText, optionsObject } from '../src/core/command-options.ts';
import { DailiesError } from '../src/errors.ts';
import { auditActor, recordAudit } from '../src/core/audit.ts';

/**
 * /policy [list|add|remove] [term] (moderators): the channel's own blocked terms, on top of the
 * server's list. Every prompt and negative prompt typed in the channel and its threads is checked
 * against both, with the same matching (look-alike letters, spelled-out words); a refusal says
 * whether the server or the channel does not allow the term.
 */
export const policyCommand = defineCommand({
  name: 'policy',
  description: "Moderators: list, add or remove the channel's own blocked prompt terms.",
  options: optionsObject({
    action: choiceOption('action', ['list', 'add', 'remove']),
    term: optionalText('term', 60),
  }),
  async handler(ctx, o) {
    const thread = ctx.session?.thread;
    const answer = (ephemeral: string) => ({ ...(thread ? { thread } : {}), ephemeral });
    if (ctx.user.canModerate !== true) {
      throw new DailiesError('forbidden', "Only a moderator can see or change this channel's blocked terms; ask one of your server or workspace moderators.");
    }
    if (!ctx.channelTerms) throw new DailiesError('unavailable', 'Channel terms are not enabled on this server; block terms for every channel with DAILIES_BLOCKED_TERMS.');
    const channel = channelOf(ctx);
    const action = o.action ?? (o.term ? 'add' : 'list');
    if (action === 'list') {
      const terms = await ctx.channelTerms.list(channel);
      return answer(terms.length ? `This channel blocks ${terms.length} term${terms.length === 1 ? '' : 's'} on top of the server's list: ${terms.map((t) => `"${t}"`).join(', ')}.` : "This channel blocks no terms of its own; the server's list still applies.");
    }
    const term = o.term?.trim();
    if (!term) throw new DailiesError('bad_input', `Name the term to ${action}, as in /policy ${action} dragon.`);
    const audit = (what: string) => recordAudit(ctx.audit, { at: ctx.clock.now(), kind: 'policy', platform: ctx.event.platform, channelId: channelIdOf(ctx), actor: auditActor(ctx.user), what }, ctx.log);
    if (action === 'add') {
      const added = await ctx.channelTerms.add(channel, term);
      if (added) audit(`blocked "${term}" in this channel`);
      return answer(added ? `Prompts in this channel may no longer mention "${term}".` : `This channel already blocks "${term}".`);
    }
    const removed = await ctx.channelTerms.remove(channel, term);
    if (removed) audit(`unblocked "${term}" in this channel`);
    return answer(removed ? `This channel no longer blocks "${term}" (the server's list still applies).` : `This channel does not block "${term}"; /policy lists what it does.`);
  },
});
