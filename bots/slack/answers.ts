import type { RespondFn } from '@slack/bolt';
import type { ChatEvent } from '../../src/core/ports/chat-adapter.ts';
import { INTERNAL_MESSAGE } from '../../src/core/outcome.ts';
import { isDailiesError } from '../../src/errors.ts';
import { formView } from './block-kit.ts';
import { fromSlackError } from './slack-errors.ts';
import { slackTimes } from './slack-text.ts';
import { resolvePeople } from './mentioned-people.ts';
import { threadKey, type ReplyContext, type SlackRuntime } from './slack-runtime.ts';

/** Errors are ephemeral too on Slack; the sign tells them from plain notes at a glance. */
export const WARNING_PREFIX = ':warning: ';

export function warning(text: string): string {
  return `${WARNING_PREFIX}${text}`;
}

/** A refusal's own sentence, or the core's one sentence for anything unexpected. */
export function userMessage(error: unknown): string {
  return isDailiesError(error) ? error.message : INTERNAL_MESSAGE;
}

/** Hands the event to the core and shows its answer: an ephemeral note, a modal, or both. */
export async function dispatch(rt: SlackRuntime, event: ChatEvent, ctx: ReplyContext): Promise<void> {
  if (!rt.running()) return;
  const channel = event.kind === 'command' ? event.channelId : event.thread.channelId;
  // A command's note belongs where it was typed; a click's or reply's in its thread.
  const threadTs = event.kind === 'command' ? event.thread?.threadId : event.thread.threadId;
  // People mentioned in a command (slash or @dailies in a thread) become ids and names here, the one place both pass.
  if (event.kind === 'command') {
    try {
      event = { ...event, options: await resolvePeople(rt.syntax.get(event.name), event.options, (id) => rt.user(id)) };
    } catch (error) {
      await ephemeral(rt, channel, event.user.id, warning(userMessage(error)), threadTs, ctx.respond);
      return;
    }
  }
  const outcome = await rt.callCore(event);
  if (outcome.thread) rt.knownThreads.claim(threadKey(outcome.thread.channelId, outcome.thread.threadId));
  const notes: string[] = [];
  if (outcome.error) notes.push(warning(outcome.error.message));
  if (outcome.ephemeral && outcome.ephemeral !== outcome.error?.message) notes.push(outcome.ephemeral);
  if (outcome.openForm) {
    const thread = outcome.thread ?? event.thread;
    if (!ctx.triggerId || !thread) {
      notes.push('That form opens from a button; click the button in the session thread.');
    } else {
      try {
        await rt.client().views.open({ trigger_id: ctx.triggerId, view: formView(outcome.openForm, thread) });
      } catch (error) {
        notes.push(warning(fromSlackError(error, 'open the form').message));
      }
    }
  }
  if (notes.length > 0) await ephemeral(rt, channel, event.user.id, notes.join('\n'), threadTs, ctx.respond);
}

/** A note only `user` sees; falls back to the command's response_url when the bot cannot post in the channel. */
export async function ephemeral(rt: SlackRuntime, channel: string, user: string, note: string, threadTs?: string, respond?: RespondFn): Promise<void> {
  const text = slackTimes(rt.wording(note));
  try {
    await rt.client().chat.postEphemeral({ channel, user, text, ...(threadTs && { thread_ts: threadTs }) });
  } catch (error) {
    // The bot may not be in the channel; a command's response_url still reaches the person.
    if (respond) {
      try {
        await respond({ response_type: 'ephemeral', text });
        return;
      } catch {
        // fall through to the log line below
      }
    }
    rt.logger.warn(`slack: could not tell ${user} "${text.slice(0, 80)}": ${fromSlackError(error, 'post an ephemeral note').message}`);
  }
}
