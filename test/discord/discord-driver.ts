import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import type { SettledEvent } from '../../bots/discord/discord-adapter.ts';
import type { ActorView, ChatPlatformDriver, DeliveryOptions, PlatformMessage } from '../conformance/chat-adapter.conformance.ts';
import type { DiscordStandIn, OptionValue } from './stand-in/discord-stand-in.ts';
import { snowflake, type MessageState, type UserSpec } from './stand-in/payloads.ts';

type Row = { type: number; components: { custom_id: string; label: string; disabled?: boolean }[] };

/**
 * Plays Discord's side for the conformance suite through the stand-in: people type commands,
 * reply in threads (with an @mention, as they must when the bot lacks MESSAGE_CONTENT), click
 * buttons, and see their ephemeral answers and DMs. Resolves once the adapter reports the event
 * settled, i.e. once the person would see the answer.
 */
export class DiscordStandInDriver implements ChatPlatformDriver {
  private readonly users = new Map<string, UserSpec>();
  /** The conformance suite's delivery ids -> the platform ids they first produced. */
  private readonly deliveries = new Map<string, string>();

  constructor(
    private readonly standIn: DiscordStandIn,
    private readonly settled: readonly SettledEvent[],
    private readonly mentionBot = true,
  ) {}

  /** Makes `handle` a person with Manage Messages, Discord's moderator; returns the handle. */
  moderator(handle: string): string {
    this.users.set(handle, { id: snowflake(), name: handle, canModerate: true });
    return handle;
  }

  user(handle: string): UserSpec {
    let u = this.users.get(handle);
    if (!u) {
      u = { id: snowflake(), name: handle };
      this.users.set(handle, u);
    }
    return u;
  }

  async sendCommand(channel: string, user: string, name: string, options: Record<string, unknown>, delivery: DeliveryOptions & { thread?: ThreadRef } = {}): Promise<ActorView> {
    const u = this.user(user);
    return this.deliver(delivery.id, (known) =>
      known ? this.standIn.redeliver(known).id : this.standIn.command(name, options as Record<string, OptionValue>, u, delivery.thread?.threadId ?? channel).id,
    ).then((id) => this.interactionView(id, u));
  }

  async sendReply(thread: ThreadRef, user: string, text: string, delivery: DeliveryOptions = {}): Promise<ActorView> {
    const u = this.user(user);
    const dmsBefore = this.standIn.directMessagesTo(u.id).length;
    await this.deliver(delivery.id, (known) => (known ? this.standIn.redeliverMessage(known).id : this.standIn.userMessage(thread.threadId, text, { user: u, mentionBot: this.mentionBot }).id));
    return parseView(this.standIn.directMessagesTo(u.id).slice(dmsBefore).map((m) => m.content));
  }

  async click(thread: ThreadRef, user: string, action: string, delivery: DeliveryOptions = {}): Promise<ActorView> {
    const u = this.user(user);
    const target = this.visibleThread(thread)
      .reverse()
      .find((m) => (m.components as Row[]).some((r) => r.components.some((c) => c.custom_id === action)));
    if (!target) throw new Error(`no button "${action}" in thread ${thread.threadId}`);
    const id = await this.deliver(delivery.id, (known) => (known ? this.standIn.redeliver(known).id : this.standIn.click(target.id, action, u).id));
    return this.interactionView(id, u);
  }

  async readTitle(thread: ThreadRef): Promise<string | null> {
    const channel = this.standIn.channels.get(thread.threadId);
    if (!channel) throw new Error(`thread ${thread.threadId} does not exist`);
    return channel.name;
  }

  async readThread(thread: ThreadRef): Promise<PlatformMessage[]> {
    return this.visibleThread(thread).map((m) => ({
      id: m.id,
      text: m.content,
      attachments: m.attachments.map((a) => ({
        filename: a.filename,
        contentType: a.content_type,
        bytes: a.size,
        ...(a.data && { read: async () => new Uint8Array(a.data ?? Buffer.alloc(0)) }),
      })),
      buttons: (m.components as Row[]).map((r) => r.components.map((c) => ({ action: c.custom_id, label: c.label, ...(c.disabled && { disabled: true }) }))),
    }));
  }

  /** The session root (in the parent channel, sharing the thread's id) then the thread's messages. */
  private visibleThread(thread: ThreadRef): MessageState[] {
    const root = this.standIn.messages.get(thread.threadId);
    return [...(root && !root.deleted ? [root] : []), ...this.standIn.channelMessages(thread.threadId)];
  }

  private async deliver(deliveryId: string | undefined, send: (known: string | undefined) => string): Promise<string> {
    const known = deliveryId ? this.deliveries.get(deliveryId) : undefined;
    const before = known ? this.settled.filter((s) => s.id === known).length : 0;
    const id = send(known);
    if (deliveryId && !known) this.deliveries.set(deliveryId, id);
    await this.standIn.waitUntil(() => this.settled.filter((s) => s.id === id).length > before, 5000, `event ${id} to settle`);
    return id;
  }

  private interactionView(interactionId: string, user: UserSpec): ActorView {
    const texts = [...this.standIn.messages.values()]
      .filter((m) => m.viaInteraction === interactionId && m.visibleTo === user.id && !m.deleted && m.content)
      .map((m) => m.content);
    return parseView(texts);
  }
}

/** The adapter marks refusals with ⚠️; DMs end with a pointer to the thread. */
function parseView(texts: string[]): ActorView {
  const view: ActorView = {};
  const errors: string[] = [];
  const notes: string[] = [];
  for (const line of texts.flatMap((t) => t.split('\n'))) {
    if (line.startsWith('⚠️ ')) errors.push(line.slice(3));
    else if (line.startsWith('(about your message in ')) continue;
    else if (line.trim()) notes.push(line);
  }
  if (errors.length) view.error = { message: errors.join('\n') };
  if (notes.length) view.ephemeral = notes.join('\n');
  return view;
}
