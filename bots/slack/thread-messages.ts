import type { ChatEvent, IncomingAttachment, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { dispatch, ephemeral, userMessage, warning } from './answers.ts';
import { readMention } from './read-mention.ts';
import { fromSlackError } from './slack-errors.ts';
import { slackFileAttachment } from './slack-files.ts';
import { isRetryOfSeen, threadKey, type MessageLike, type SlackRuntime } from './slack-runtime.ts';
import { mentionPattern, slackToPlain } from './slack-text.ts';

/** Message subtypes that are people writing; edits, deletions, joins and bot posts are not. */
const PERSON_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

/**
 * Thread replies and mentions. Slack delivers a mention twice (message and app_mention, with
 * different event ids) and retries unanswered events, so both the event id and the message
 * are claimed once. Everything else said in the channel is none of the bot's business.
 */
export class ThreadMessages {
  private readonly threadRoots = new Map<string, Promise<boolean>>();

  constructor(private readonly rt: SlackRuntime) {}

  onMessage(ev: MessageLike, eventId: string, isMention: boolean, retryNum: number | undefined): void {
    const { rt } = this;
    const receivedAt = Date.now();
    const botUserId = rt.botUserId();
    if (!PERSON_SUBTYPES.has(ev.subtype) || ev.bot_id || !ev.user || ev.user === botUserId) return;
    const mentioned = isMention || (botUserId !== '' && mentionPattern(botUserId).test(ev.text ?? ''));
    const inThread = ev.thread_ts !== undefined && ev.thread_ts !== ev.ts;
    const known = inThread && (rt.knownThreads.has(threadKey(ev.channel, ev.thread_ts!)) || ev.parent_user_id === botUserId);
    if (!mentioned && !known) return;
    if (isRetryOfSeen(rt, `event:${eventId}`, retryNum)) return;
    // The twin of a mention (the other of message/app_mention) names the same message under another event id.
    if (rt.recent.claim(`message:${ev.channel}:${ev.ts}`, eventId) === 'other') return;
    const userId = ev.user;
    rt.track(async () => {
      // A mention in a thread whose root we cannot place (no parent_user_id) needs a look at the root.
      const sessionThread = known || (inThread && ev.parent_user_id === undefined && (await this.isBotThread(ev.channel, ev.thread_ts!)));
      const thread: ThreadRef | undefined = sessionThread ? { platform: 'slack', channelId: ev.channel, threadId: ev.thread_ts! } : undefined;
      const user = await rt.user(userId);
      // Bolt acknowledged the event envelope before this listener ran.
      const base = { id: eventId, platform: 'slack' as const, ...(ev.team && { workspaceId: ev.team }), user, receivedAt, ackedAt: receivedAt };
      const answer = (text: string) => ephemeral(rt, ev.channel, userId, text, thread?.threadId);
      const refuse = (error: unknown) => answer(warning(userMessage(error)));

      const text = slackToPlain(botUserId ? (ev.text ?? '').replace(mentionPattern(botUserId), ' ') : (ev.text ?? ''))
        .replace(/[ \t]+/g, ' ')
        .trim();
      let attachments: IncomingAttachment[] | undefined;
      try {
        attachments = ev.files?.length ? ev.files.map((f) => slackFileAttachment(f, rt.options.attachmentRules)) : undefined;
      } catch (error) {
        await refuse(error);
        return;
      }

      let event: ChatEvent;
      if (mentioned) {
        let reading;
        try {
          reading = readMention(text, rt.syntax, thread !== undefined, attachments !== undefined);
        } catch (error) {
          await refuse(error);
          return;
        }
        switch (reading.kind) {
          case 'nothing':
            return;
          case 'help':
            await answer(reading.text);
            return;
          case 'needs-prompt':
            await answer('Mention me with a prompt, like "@dailies a paper boat in the rain", or use /video.');
            return;
          case 'reply':
            event = { ...base, kind: 'reply', thread: thread!, text: reading.text, ...(attachments && { attachments }) };
            break;
          case 'command':
            event = { ...base, kind: 'command', channelId: ev.channel, ...(thread && { thread }), name: reading.name, options: reading.options, ...(attachments && { attachments }) };
            break;
        }
      } else {
        if (text === '' && !attachments) return;
        event = { ...base, kind: 'reply', thread: thread!, text, ...(attachments && { attachments }) };
      }
      await dispatch(rt, event, {});
    });
  }

  private async isBotThread(channel: string, threadTs: string): Promise<boolean> {
    const { rt } = this;
    const key = threadKey(channel, threadTs);
    let p = this.threadRoots.get(key);
    if (!p) {
      p = rt
        .client()
        .conversations.replies({ channel, ts: threadTs, limit: 1 })
        .then((r) => {
          const root = r.messages?.[0] as { user?: string; bot_id?: string } | undefined;
          const botUserId = rt.botUserId();
          const botId = rt.botId();
          return Boolean(root && ((botUserId && root.user === botUserId) || (botId && root.bot_id === botId)));
        })
        .catch((error) => {
          rt.logger.warn(`slack: could not read the thread root: ${fromSlackError(error, 'read the thread').message}`);
          this.threadRoots.delete(key);
          return false;
        });
      this.threadRoots.set(key, p);
      if (this.threadRoots.size > 2_000) this.threadRoots.delete(this.threadRoots.keys().next().value!);
    }
    if (await p) rt.knownThreads.claim(key);
    return p;
  }
}
