import { channelIdOf, defineCommand } from '../src/core/command-context.ts';
import { optionsObject, personOption } from '../src/core/command-options.ts';
import { DailiesError } from '../src/errors.ts';
import { auditActor, recordAudit } from '../src/core/audit.ts';
import { blockScopeOf } from '../src/core/person-block-check.ts';
import { moderatorBlocks } from './block.ts';

/** /unblock user:<person> (moderators): ends a /block early. */
export const unblockCommand = defineCommand({
  name: 'unblock',
  description: 'Moderators: end a block early, so the person may use dailies again.',
  options: optionsObject({ user: personOption('user') }),
  async handler(ctx, o) {
    const blocks = moderatorBlocks(ctx, 'unblock people');
    if (!o.user) throw new DailiesError('bad_input', 'Name the person to unblock, such as @Ben; /block lists who is blocked.');
    const person = o.user;
    const removed = await blocks.remove(blockScopeOf(ctx.event), person.id);
    const thread = ctx.session?.thread;
    if (!removed) return { ...(thread ? { thread } : {}), ephemeral: `${person.name} is not blocked from dailies here; /block lists who is.` };
    recordAudit(ctx.audit, { at: ctx.clock.now(), kind: 'block', platform: ctx.event.platform, channelId: channelIdOf(ctx), actor: auditActor(ctx.user), what: `unblocked ${person.name} (${person.id})` }, ctx.log);
    return { ...(thread ? { thread } : {}), ephemeral: `${person.name} may use dailies again.` };
  },
});
