import { randomUUID } from 'node:crypto';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { DISABLED_VALUE_PREFIX } from '../../bots/slack/block-kit.ts';
import { DEFAULT_COMMAND_SYNTAX } from '../../bots/slack/command-syntax.ts';
import { slashForm, UMBRELLA_COMMAND } from '../../bots/slack/command-wording.ts';
import { formatCommandText } from '../../bots/slack/parse-command-text.ts';
import { WARNING_PREFIX, type SlackAdapter } from '../../bots/slack/slack-adapter.ts';
import { slackToPlain } from '../../bots/slack/slack-text.ts';
import type { ActorView, ChatPlatformDriver, DeliveryOptions, PlatformMessage } from '../conformance/chat-adapter.conformance.ts';
import { blockActionPayload, eventBody, interactionBody, sendSigned, slashCommandBody, type SignedResponse } from './stand-in/signed-requests.ts';
import type { SlackWebApiStandIn, StoredMessage } from './stand-in/slack-web-api-stand-in.ts';

/**
 * Plays Slack's side for the adapter under test: people's actions become signed requests to the
 * adapter's real HTTP receiver, and what they see is read back from the Web API stand-in.
 * Users are Slack user ids; the stand-in's users.info gives their names.
 *
 * How a Slack thread is read back: a clip the adapter posts is a file message (Slack gives a
 * message with files no buttons) directly followed by its caption with the buttons. People see
 * the pair as one post, so a text-less bot file message is shown together with the bot message
 * right after it, under that message's id (the MessageRef the adapter returned).
 *
 * Slack shows command hints in its own form (`/dailies cut`); the shared suites compare the
 * platform-neutral sentence, so what people are shown is read back with `/cut` (see
 * `neutralCommands`). test/slack/dailies-command.test.ts checks the Slack form itself.
 */
export class SlackPlatformDriver implements ChatPlatformDriver {
  constructor(
    private readonly standIn: SlackWebApiStandIn,
    private readonly adapter: () => SlackAdapter,
    private readonly secret: string,
  ) {}

  private seq = 0;

  private get eventsUrl(): string {
    const address = this.adapter().address;
    if (!address) throw new Error('the Slack adapter is not listening yet');
    return `http://127.0.0.1:${address.port}/slack/events`;
  }

  private nextTs(): string {
    return `${Math.floor(Date.now() / 1000)}.${String(500000 + ++this.seq)}`;
  }

  /** Sends, waits until the adapter has answered, and collects what `user` was shown meanwhile. */
  private async act(user: string, body: string, contentType: string, responseTag?: string): Promise<ActorView & { response: SignedResponse }> {
    const callsBefore = this.standIn.calls.length;
    const response = await sendSigned(this.eventsUrl, body, contentType, { secret: this.secret });
    if (response.status !== 200) throw new Error(`Slack request answered ${response.status}`);
    await new Promise((r) => setImmediate(r));
    await this.adapter().idle();
    const shown: string[] = [];
    if (response.json?.response_type === 'ephemeral') shown.push(String(response.json.text));
    for (const call of this.standIn.calls.slice(callsBefore)) {
      if (call.method === 'chat.postEphemeral' && call.args.user === user) shown.push(String(call.args.text));
    }
    if (responseTag) {
      for (const r of this.standIn.responses) if (r.id === responseTag) shown.push(String(r.body.text ?? ''));
    }
    return { ...toActorView(shown), response };
  }

  async sendCommand(channel: string, user: string, name: string, options: Record<string, unknown>, delivery: DeliveryOptions & { thread?: ThreadRef } = {}): Promise<ActorView> {
    const syntax = DEFAULT_COMMAND_SYNTAX.find((c) => c.name === name) ?? { name, description: '', options: [] };
    const text = formatCommandText(syntax, options);
    if (delivery.thread) {
      // Slash commands do not work in threads; there people mention the app instead.
      const mention = {
        type: 'app_mention',
        channel: delivery.thread.channelId,
        user,
        text: `<@${this.standIn.botUserId}> ${name} ${text}`.trim(),
        ts: this.nextTs(),
        thread_ts: delivery.thread.threadId,
      };
      const { response: _r, ...view } = await this.act(user, eventBody(mention, delivery.id), 'application/json');
      return view;
    }
    const tag = `R-${user}-${randomUUID()}`;
    // As the manifest declares them: /video, and every other command as a word after /dailies.
    const [command, ...words] = slashForm(name).split(' ');
    const body = slashCommandBody({
      command: command!,
      text: [...words, text].join(' ').trim(),
      user_id: user,
      channel_id: channel,
      response_url: this.standIn.responseUrl(tag),
      ...(delivery.id && { trigger_id: delivery.id }),
    });
    const { response: _r, ...view } = await this.act(user, body, 'application/x-www-form-urlencoded', tag);
    return view;
  }

  async sendReply(thread: ThreadRef, user: string, text: string, delivery: DeliveryOptions = {}): Promise<ActorView> {
    const event = { type: 'message', channel: thread.channelId, channel_type: 'channel', user, text, ts: this.nextTs(), thread_ts: thread.threadId, parent_user_id: this.standIn.botUserId };
    const { response: _r, ...view } = await this.act(user, eventBody(event, delivery.id), 'application/json');
    return view;
  }

  async click(thread: ThreadRef, user: string, action: string, delivery: DeliveryOptions = {}): Promise<ActorView> {
    const target = [...this.standIn.thread(thread.channelId, thread.threadId)].reverse().find((m) => buttonRows(m).some((row) => row.some((b) => b.action === action)));
    if (!target) throw new Error(`no button "${action}" in thread ${thread.threadId}`);
    const button = buttonRows(target).flat().find((b) => b.action === action)!;
    const payload = blockActionPayload({
      user,
      channel: thread.channelId,
      messageTs: target.ts,
      ...(target.ts !== thread.threadId && { threadTs: thread.threadId }),
      actionId: action,
      value: button.value,
      ...(delivery.id && { triggerId: delivery.id }),
    });
    const { response: _r, ...view } = await this.act(user, interactionBody(payload), 'application/x-www-form-urlencoded');
    return view;
  }

  /** Slack threads have no name: a thread is its root message and the replies under it. */
  async readTitle(_thread: ThreadRef): Promise<string | null> {
    return null;
  }

  async readThread(thread: ThreadRef): Promise<PlatformMessage[]> {
    const out: PlatformMessage[] = [];
    let pendingFiles: PlatformMessage['attachments'] = [];
    for (const m of this.standIn.thread(thread.channelId, thread.threadId)) {
      const files = (m.files ?? []).map((f) => ({
        filename: f.name,
        bytes: f.size,
        read: async () => new Uint8Array(this.standIn.uploads.get(f.id)?.bytes ?? Buffer.alloc(0)),
      }));
      const text = messageText(m);
      if (m.bot_id && files.length > 0 && text === '') {
        pendingFiles = [...pendingFiles, ...files];
        continue;
      }
      out.push({
        id: m.ts,
        text,
        attachments: [...pendingFiles, ...files],
        buttons: buttonRows(m).map((row) => row.map((b) => ({ action: b.action, label: b.label, ...(b.disabled && { disabled: true }) }))),
      });
      pendingFiles = [];
    }
    // Files with no caption after them are still a post of their own.
    if (pendingFiles.length > 0) out.push({ id: 'files', text: '', attachments: pendingFiles, buttons: [] });
    return out;
  }
}

interface BlockLike {
  type: string;
  text?: { text?: string };
  elements?: { type: string; action_id?: string; value?: string; text?: { text?: string } }[];
}

export function buttonRows(m: StoredMessage): { action: string; label: string; value?: string; disabled: boolean }[][] {
  return ((m.blocks ?? []) as BlockLike[])
    .filter((b) => b.type === 'actions')
    .map((b) =>
      (b.elements ?? [])
        .filter((e) => e.type === 'button' && e.action_id)
        .map((e) => ({ action: e.action_id!, label: e.text?.text ?? '', value: e.value, disabled: e.value?.startsWith(DISABLED_VALUE_PREFIX) ?? false })),
    );
}

export function messageText(m: StoredMessage): string {
  const sections = ((m.blocks ?? []) as BlockLike[]).filter((b) => b.type === 'section').map((b) => b.text?.text ?? '');
  return neutralCommands(slackToPlain(sections.length > 0 ? sections.join('') : m.text).replace(/\u200b/g, ''));
}

/** `/dailies cut` -> `/cut`: a hint as the other platforms word it. */
export function neutralCommands(text: string): string {
  return text.replace(new RegExp(`/${UMBRELLA_COMMAND} ([a-z][a-z0-9_-]*)`, 'g'), '/$1');
}

/** Slack shows errors as ephemeral notes too; the adapter marks them with a warning sign. */
function toActorView(shown: string[]): ActorView {
  const errors: string[] = [];
  const notes: string[] = [];
  for (const text of shown) {
    for (const line of neutralCommands(text).split('\n')) (line.startsWith(WARNING_PREFIX) ? errors : notes).push(line.replace(WARNING_PREFIX, ''));
  }
  const view: ActorView = {};
  if (notes.length > 0) view.ephemeral = notes.join('\n');
  if (errors.length > 0) view.error = { message: errors.join('\n') };
  return view;
}
