import { channelIdOf, defineCommand, type CommandContext } from '../src/core/command-context.ts';
import { optionalText, optionsObject, periodOption, personOption } from '../src/core/command-options.ts';
import { DailiesError } from '../src/errors.ts';
import { auditActor, recordAudit } from '../src/core/audit.ts';
import { blockScopeOf, reasonClause } from '../src/core/person-block-check.ts';
import { clockText } from '../src/core/clock-text.ts';
import { MAX_BLOCK_MS, type PersonBlocks } from '../src/core/ports/person-blocks.ts';

/**
 * /block user:<person> for:<30m|2h|1d|7d> [reason:<text>] (moderators): the person's commands,
 * replies and button presses are refused until then, in every channel of this server or
 * workspace, with a sentence saying until when and why. Without a person it lists who is blocked.
 */
export const blockCommand = defineCommand({
  name: 'block',
  description: 'Moderators: block a person from dailies for a while (30m, 2h, 1d, 7d), or list who is blocked.',
  options: optionsObject({
    user: personOption('user'),
    for: periodOption('for', MAX_BLOCK_MS),
    reason: optionalText('reason', 200),
  }),
  async handler(ctx, o) {
    const blocks = moderatorBlocks(ctx, 'block people from dailies or see who is blocked');
    const scope = blockScopeOf(ctx.event);
    const now = ctx.clock.now();
    const answer = (ephemeral: string) => ({ ...(ctx.session ? { thread: ctx.session.thread } : {}), ephemeral });
    if (!o.user) {
      if (o.for !== undefined || o.reason) throw new DailiesError('bad_input', 'Name the person to block, such as @Ben, with how long (30m, 2h, 1d or 7d).');
      const list = await blocks.list(scope, now);
      if (list.length === 0) return answer('Nobody is blocked from dailies here.');
      return answer(['Blocked from dailies here:', ...list.map((b) => `• ${b.person.name} until ${clockText(b.until, now)}, by ${b.by.name}${b.reason ? `: ${b.reason}` : ''}`)].join('\n'));
    }
    const person = o.user;
    if (person.id === ctx.user.id) throw new DailiesError('bad_input', 'You cannot block yourself; name someone else.');
    if (o.for === undefined) throw new DailiesError('bad_input', `Say how long to block ${person.name} for: 30m, 2h, 1d or 7d (at most 90 days).`);
    const until = now + o.for;
    const previous = await blocks.get(scope, person.id, now);
    await blocks.put(scope, { person, until, ...(o.reason ? { reason: o.reason } : {}), by: { id: ctx.user.id, name: ctx.user.name }, at: now });
    recordAudit(ctx.audit, { at: now, kind: 'block', platform: ctx.event.platform, channelId: channelIdOf(ctx), actor: auditActor(ctx.user), what: `blocked ${person.name} (${person.id}) until ${new Date(until).toISOString().slice(0, 16).replace('T', ' ')} UTC${o.reason ? `: ${o.reason}` : ''}` }, ctx.log);
    const replaced = previous ? ` (instead of until ${clockText(previous.until, now)})` : '';
    return answer(`${person.name} is blocked from dailies until ${clockText(until, now)}${replaced}${reasonClause(o.reason)}`);
  },
});

/** The blocks, once the acting user is known to be a moderator; `what` completes "Only a moderator can …". */
export function moderatorBlocks(ctx: CommandContext, what: string): PersonBlocks {
  if (ctx.user.canModerate !== true) throw new DailiesError('forbidden', `Only a moderator can ${what}; ask one of your server or workspace moderators.`);
  if (!ctx.blocks) throw new DailiesError('unavailable', 'Blocking people is not enabled on this server; ask the admin.');
  return ctx.blocks;
}
