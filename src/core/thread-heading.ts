import type { ThreadHeading } from './ports/chat-adapter.ts';
import type { CommandContext } from './command-context.ts';
import { startMessage } from './render-message.ts';
import type { Session } from './session.ts';
import { currentVersion, findVersion } from './session-state.ts';
import { clip } from './text.ts';

/**
 * What a session thread shows of where the session is now (ChatAdapter.retitle): the thread's
 * name follows the current version's prompt, and its header says who started it and who wrote the
 * current version, by name.
 */
export function threadHeading(session: Session): ThreadHeading {
  const current = currentVersion(session);
  if (session.storyboard) {
    // A board's header is its plan (the opening shots and how to revise them), and a board has no
    // single current prompt: a "Now at" line would name one shot as if it were the film. Only
    // the name follows the newest revision, saying which shot it is.
    const shot = current.shot !== undefined ? `shot ${current.shot} · ` : '';
    return { title: `v${current.n} · ${shot}${current.prompt}` };
  }
  const first = findVersion(session, 1) ?? session.versions[0] ?? current;
  const [opening, ...rest] = startMessage(session.owner.name, first.prompt).text.split('\n');
  const now = `Now at v${current.n} by ${current.author.name}: "${clip(current.prompt, 300)}"`;
  return { title: `v${current.n} · ${current.prompt}`, header: [opening, now, ...rest].join('\n') };
}

/**
 * Shows `session`'s current state on its thread without waiting for the platform: the name is
 * cosmetic and Discord may hold a rename back for minutes, so a failure is logged and never fails
 * the command that made the version.
 */
export function showThreadHeading(ctx: Pick<CommandContext, 'adapters' | 'log'>, session: Session): void {
  const adapter = ctx.adapters(session.thread.platform);
  if (!adapter) return;
  void Promise.resolve()
    .then(() => adapter.retitle(session.thread, threadHeading(session)))
    .catch((error: unknown) => ctx.log.warn(`could not show v${session.current} on the thread of session ${session.id}`, error));
}
