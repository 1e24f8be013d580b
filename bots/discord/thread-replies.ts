import { MessageType, PermissionFlagsBits, Routes, type Client, type Message } from 'discord.js';
import type { ChatUser, ReplyEvent } from '../../src/core/ports/chat-adapter.ts';
import type { DiscordRuntime } from './discord-runtime.ts';
import { WARNING, imageAttachments, noteFor } from './interaction-context.ts';
import { LIMITS, truncate } from './outgoing-message.ts';

/**
 * Messages people write in the bot's session threads: each becomes a reply event. A message has
 * no ephemeral answer, so the core's answer reaches its author privately (./tellPrivately).
 */
export async function onThreadMessage(rt: DiscordRuntime, message: Message): Promise<void> {
  // The client is set and cleared together with the core's handler (start, stop).
  const client = rt.client();
  if (!client?.user) return;
  try {
    if (message.author.bot || message.webhookId || message.system) return;
    if (message.type !== MessageType.Default && message.type !== MessageType.Reply) return;
    const channel = message.channel;
    if (!channel.isThread() || !channel.parentId) return;
    const botId = client.user.id;
    if (!rt.places.ownThreads.has(channel.id) && channel.ownerId !== botId) return;

    // Without MESSAGE_CONTENT the text is empty unless the bot is @mentioned: nothing to refine then.
    const text = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ').replace(/\s+/g, ' ').trim();
    const attachments = imageAttachments([...message.attachments.values()], rt.options.maxImageBytes);
    if (!text && attachments.length === 0) return;

    const member = message.member;
    const user: ChatUser = {
      id: message.author.id,
      name: member?.displayName ?? message.author.globalName ?? message.author.username,
      canModerate: member ? (channel.permissionsFor(member)?.has(PermissionFlagsBits.ManageMessages) ?? false) : false,
    };
    const event: ReplyEvent = {
      id: message.id,
      platform: 'discord',
      ...(message.guildId && { workspaceId: message.guildId }),
      kind: 'reply',
      user,
      receivedAt: Date.now(),
      thread: { platform: 'discord', channelId: channel.parentId, threadId: channel.id },
      text,
      ...(attachments.length && { attachments }),
    };
    if (text) rt.prompts.remember(channel.id, text);
    const outcome = await rt.callCore(event);
    const note = noteFor(outcome);
    if (note) await tellPrivately(rt, client, message, `${note}\n(about your message in <#${channel.id}>)`);
    rt.settled({ id: message.id, kind: 'reply', outcome });
  } catch (error) {
    rt.log.error('discord: thread reply failed', { id: message.id, error: String(error) });
  }
}

/**
 * A message has no ephemeral answer, and refusals must not land in the shared thread: the
 * author gets a DM. With DMs from server members turned off, a reaction on their message is
 * the only private-enough signal left.
 */
async function tellPrivately(rt: DiscordRuntime, client: Client, message: Message, text: string): Promise<void> {
  try {
    const dm = (await client.rest.post(Routes.userChannels(), { body: { recipient_id: message.author.id } })) as { id: string };
    await client.rest.post(Routes.channelMessages(dm.id), { body: { content: truncate(text, LIMITS.contentChars), allowed_mentions: { parse: [] } } });
  } catch (error) {
    rt.log.warn('discord: could not DM an answer to a thread reply; reacting instead', { id: message.id, error: String(error) });
    await client.rest
      .put(Routes.channelMessageOwnReaction(message.channelId, message.id, encodeURIComponent(WARNING)))
      .catch((e: unknown) => rt.log.warn('discord: could not react either', { id: message.id, error: String(e) }));
  }
}
