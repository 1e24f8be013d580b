import type { App } from '@slack/bolt';
import type { ActionEvent, CommandEvent } from '../../src/core/ports/chat-adapter.ts';
import { dispatch, ephemeral, userMessage, warning } from './answers.ts';
import { DISABLED_VALUE_PREFIX, FORM_CALLBACK_ID, submittedForm } from './block-kit.ts';
import { parseCommandText } from './parse-command-text.ts';
import { isRetryOfSeen, type MessageLike, type SlackRuntime } from './slack-runtime.ts';
import { routeSlashCommand } from './slash-command-route.ts';
import { slackToPlain } from './slack-text.ts';
import { keepMentionIds, takesPeople } from './mentioned-people.ts';
import type { ThreadMessages } from './thread-messages.ts';

/**
 * Bolt's listeners. Commands, clicks and form submissions are acknowledged before anything slow
 * happens (Slack gives 3 s, then retries); the core runs afterwards, tracked by the adapter.
 */
export function listen(app: App, rt: SlackRuntime, messages: ThreadMessages): void {
  app.error(async (error) => {
    rt.logger.error(`slack: ${error.code ?? 'error'}: ${error.message}`);
  });

  // Every slash command: /video, /dailies <command>, and the older per-command names (see ./slash-command-route.ts).
  app.command(/.*/, async ({ command, ack, respond, context }) => {
    const receivedAt = Date.now();
    const answerInAck = (text: string) => ack({ response_type: 'ephemeral', text: rt.wording(text) });
    const route = routeSlashCommand(command.command, command.text ?? '', rt.syntax);
    if (route.kind === 'unknown') {
      await answerInAck(warning(route.message));
      return;
    }
    const { syntax, text } = route;
    const name = syntax.name;
    let parsed;
    try {
      parsed = parseCommandText(syntax, slackToPlain(takesPeople(syntax) ? keepMentionIds(text) : text));
    } catch (error) {
      await answerInAck(warning(userMessage(error)));
      return;
    }
    if (parsed.kind === 'help') {
      await answerInAck(parsed.text);
      return;
    }
    await ack();
    const ackedAt = Date.now();
    if (isRetryOfSeen(rt, `command:${command.trigger_id}`, context.retryNum)) return;
    const options = parsed.options;
    rt.track(async () => {
      const user = await rt.user(command.user_id, command.user_name);
      const event: CommandEvent = {
        kind: 'command',
        id: command.trigger_id,
        platform: 'slack',
        ...(command.team_id && { workspaceId: command.team_id }),
        user,
        receivedAt,
        ackedAt,
        channelId: command.channel_id,
        name,
        options,
      };
      await dispatch(rt, event, { triggerId: command.trigger_id, respond });
    });
  });

  app.action(/.*/, async ({ ack, body, action, respond, context }) => {
    const receivedAt = Date.now();
    await ack();
    const ackedAt = Date.now();
    if (body.type !== 'block_actions' || !('action_id' in action)) return;
    const message = body.message as { ts?: string; thread_ts?: string } | undefined;
    const channelId = body.channel?.id ?? (body.container as { channel_id?: string } | undefined)?.channel_id;
    if (!message?.ts || !channelId) return;
    if (isRetryOfSeen(rt, `action:${body.trigger_id}:${action.action_id}`, context.retryNum)) return;
    const disabled = 'value' in action && typeof action.value === 'string' && action.value.startsWith(DISABLED_VALUE_PREFIX);
    rt.track(async () => {
      if (disabled) {
        await ephemeral(rt, channelId, body.user.id, 'That button is closed.', message.thread_ts ?? message.ts, respond);
        return;
      }
      const user = await rt.user(body.user.id, body.user.username ?? body.user.name);
      const event: ActionEvent = {
        kind: 'action',
        id: body.trigger_id,
        platform: 'slack',
        ...(body.team?.id && { workspaceId: body.team.id }),
        user,
        receivedAt,
        ackedAt,
        thread: { platform: 'slack', channelId, threadId: message.thread_ts ?? message.ts! },
        action: action.action_id,
      };
      await dispatch(rt, event, { triggerId: body.trigger_id, respond });
    });
  });

  app.view(FORM_CALLBACK_ID, async ({ ack, body, view, context }) => {
    const receivedAt = Date.now();
    // Acknowledging closes the modal; a refusal then arrives as an ephemeral note in the thread.
    await ack();
    const ackedAt = Date.now();
    const form = submittedForm(view);
    if (!form) return;
    const id = (body as { trigger_id?: string }).trigger_id ?? `${view.id}:${view.hash}`;
    if (isRetryOfSeen(rt, `view:${id}`, context.retryNum)) return;
    rt.track(async () => {
      const user = await rt.user(body.user.id, body.user.name);
      const event: ActionEvent = { kind: 'action', id, platform: 'slack', ...(body.team?.id && { workspaceId: body.team.id }), user, receivedAt, ackedAt, thread: form.thread, action: form.action, values: form.values };
      await dispatch(rt, event, {});
    });
  });

  app.event('message', async ({ event, body, context }) => {
    messages.onMessage(withTeam(event, body), (body as { event_id: string }).event_id, false, context.retryNum);
  });
  app.event('app_mention', async ({ event, body, context }) => {
    messages.onMessage(withTeam(event, body), (body as { event_id: string }).event_id, true, context.retryNum);
  });
}

/** The message with its workspace: the message's own `team`, else the envelope's `team_id`. */
function withTeam(event: unknown, body: unknown): MessageLike {
  const message = event as MessageLike;
  const team = message.team ?? (body as { team_id?: string }).team_id;
  return team ? { ...message, team } : message;
}
