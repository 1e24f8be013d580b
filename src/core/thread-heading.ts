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

/** One thread's headings on one adapter: at most one in flight, and the newest write waiting. */
interface Lane {
  sending: boolean;
  /** The session as the newest write (highest rev) left it, not yet shown. */
  wanted?: Session;
  /** The rev last sent. */
  shown: number;
  forget?: ReturnType<typeof setTimeout>;
}

/** How long an idle thread's lane remembers the rev it showed. */
const LANE_IDLE_MS = 60_000;

/**
 * Lanes per adapter (each core has its own adapters, so no two cores share one), per thread.
 * Writes made at the same moment (two replies) each ask for their own state, and two renames in
 * flight could land in either order; so a thread sends one heading at a time, only the newest
 * state by `rev`, and never one older than what it showed.
 */
const lanes = new WeakMap<object, Map<string, Lane>>();

/**
 * Shows `session`'s current state on its thread without waiting for the platform: the name is
 * cosmetic and Discord may hold a rename back for minutes, so a failure is logged and never fails
 * the command that made the version.
 */
export function showThreadHeading(ctx: Pick<CommandContext, 'adapters' | 'log'>, session: Session): void {
  const adapter = ctx.adapters(session.thread.platform);
  if (!adapter) return;
  let threads = lanes.get(adapter);
  if (!threads) lanes.set(adapter, (threads = new Map()));
  const key = `${session.thread.channelId}/${session.thread.threadId}`;
  let lane = threads.get(key);
  if (!lane) threads.set(key, (lane = { sending: false, shown: -1 }));
  clearTimeout(lane.forget);
  if (session.rev > Math.max(lane.shown, lane.wanted?.rev ?? -1)) lane.wanted = session;
  const pump = (l: Lane): void => {
    const next = l.wanted;
    if (l.sending || !next) {
      // An idle lane is kept a while, so a write that reached here late is still known as older.
      if (!l.sending) l.forget = setTimeout(() => threads.get(key) === l && !l.sending && !l.wanted && threads.delete(key), LANE_IDLE_MS);
      l.forget?.unref?.();
      return;
    }
    clearTimeout(l.forget);
    l.wanted = undefined;
    l.sending = true;
    l.shown = next.rev;
    void Promise.resolve()
      .then(() => adapter.retitle(next.thread, threadHeading(next)))
      .catch((error: unknown) => ctx.log.warn(`could not show v${next.current} on the thread of session ${next.id}`, error))
      .finally(() => {
        l.sending = false;
        pump(l);
      });
  };
  pump(lane);
}
