import { ApplicationCommandOptionType, ChannelType, PermissionFlagsBits, type CommandInteractionOption, type Interaction } from 'discord.js';
import type { ChatEvent, ChatUser, CommandEvent, EventOutcome, IncomingAttachment, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { DEFAULT_MAX_IMAGE_BYTES, checkImageAttachment, type DiscordAttachmentLike } from './incoming-attachments.ts';
import { discordTimes, truncate } from './outgoing-message.ts';

/** Where an interaction happened, resolved once from discord.js's cache or the raw payload. */
export interface ChannelInfo {
  id: string;
  guildId: string | null;
  parentId: string | null;
  isThread: boolean;
}

/** The `channel` object an INTERACTION_CREATE payload carries. */
export interface RawChannel {
  id: string;
  type: number;
  parent_id?: string | null;
  guild_id?: string;
}

const THREAD_TYPES: ReadonlySet<number> = new Set([ChannelType.PublicThread, ChannelType.PrivateThread, ChannelType.AnnouncementThread]);

export const WARNING = '⚠️';

export function channelOf(i: Interaction, raw: RawChannel | undefined): ChannelInfo {
  const ch = i.channel;
  if (ch && !ch.isDMBased()) return { id: ch.id, guildId: ch.guildId, parentId: ch.isThread() ? ch.parentId : null, isThread: ch.isThread() };
  if (raw) return { id: raw.id, guildId: i.guildId, parentId: raw.parent_id ?? null, isThread: THREAD_TYPES.has(raw.type) };
  return { id: i.channelId ?? '', guildId: i.guildId, parentId: null, isThread: false };
}

export function threadOf(place: ChannelInfo): ThreadRef | undefined {
  return place.isThread && place.parentId ? { platform: 'discord', channelId: place.parentId, threadId: place.id } : undefined;
}

/** A click on the session message (parent channel; the thread shares its id) or on a message inside the thread. */
export function threadOfComponent(messageId: string, place: ChannelInfo): ThreadRef {
  return threadOf(place) ?? { platform: 'discord', channelId: place.id, threadId: messageId };
}

/** The name Discord shows for a user in the server: the member's nickname, else the user's global or user name. */
function shownName(member: { displayName: string } | { nick?: string | null } | null | undefined, user: { globalName: string | null; username: string }): string {
  const nick = !member ? undefined : 'displayName' in member ? member.displayName : (member.nick ?? undefined);
  return nick ?? user.globalName ?? user.username;
}

export function userOf(i: Interaction): ChatUser {
  return {
    id: i.user.id,
    name: shownName(i.member, i.user),
    // The payload's member.permissions already includes channel overwrites (and Administrator).
    canModerate: i.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false,
  };
}

/** What every event from interaction `i` carries: who, where, and when it arrived and was acknowledged. */
export function eventBasics(i: Interaction, receivedAt: number, ackedAt?: number): Pick<ChatEvent, 'id' | 'platform' | 'workspaceId' | 'user' | 'receivedAt' | 'ackedAt'> {
  return {
    id: i.id,
    platform: 'discord',
    ...(i.guildId && { workspaceId: i.guildId }),
    user: userOf(i),
    receivedAt,
    ...(ackedAt !== undefined && { ackedAt }),
  };
}

/** Flattens options; attachments are checked here so no unchecked URL reaches the core. Throws a DailiesError for a bad image. */
export function commandOptions(data: readonly CommandInteractionOption[], maxImageBytes = DEFAULT_MAX_IMAGE_BYTES): { options: Record<string, unknown>; attachments: IncomingAttachment[] } {
  const options: Record<string, unknown> = {};
  const files: DiscordAttachmentLike[] = [];
  const visit = (list: readonly CommandInteractionOption[]) => {
    for (const o of list) {
      if (o.type === ApplicationCommandOptionType.Subcommand || o.type === ApplicationCommandOptionType.SubcommandGroup) {
        options[o.type === ApplicationCommandOptionType.Subcommand ? 'subcommand' : 'group'] = o.name;
        visit(o.options ?? []);
      } else if (o.type === ApplicationCommandOptionType.Attachment) {
        if (o.attachment) files.push(o.attachment);
      } else if (o.type === ApplicationCommandOptionType.User) {
        // The core takes a person as id and shown name; Discord resolves the user (and member) for us.
        if (o.user) options[o.name] = { id: o.user.id, name: shownName(o.member, o.user) };
      } else {
        options[o.name] = o.value;
      }
    }
  };
  visit(data);
  return { options, attachments: files.map((f) => checkImageAttachment(f, maxImageBytes)) };
}

/** Images from a thread reply; anything else (or off-CDN) is left out rather than refused. */
export function imageAttachments(list: readonly DiscordAttachmentLike[], maxImageBytes = DEFAULT_MAX_IMAGE_BYTES): IncomingAttachment[] {
  const out: IncomingAttachment[] = [];
  for (const a of list) {
    try {
      out.push(checkImageAttachment(a, maxImageBytes));
    } catch {
      // not an image we take
    }
  }
  return out;
}

/** What the acting user is told; errors are marked so they read as refusals, not confirmations. */
export function noteFor(outcome: EventOutcome): string {
  // The core's error outcomes carry their sentence twice (outcome.ts errorOutcome): say it once.
  const ephemeral = outcome.ephemeral !== outcome.error?.message ? outcome.ephemeral : undefined;
  return discordTimes([outcome.error && `${WARNING} ${outcome.error.message}`, ephemeral].filter(Boolean).join('\n'));
}

/** Matches the core's `edit-prompt:<session>` and similar "edit" actions. */
export function defaultOpensForm(action: string): boolean {
  return /(^|[^a-z])edit([^a-z]|$)/i.test(action);
}

/** Thread names are 1-100 characters; the prompt (a storyboard's shots) reads best there. */
export function threadName(origin: CommandEvent, text: string): string {
  const prompt = origin.options['prompt'] ?? origin.options['shots'];
  const source = (typeof prompt === 'string' && prompt.trim() ? prompt : (text.split('\n')[0] ?? '')).replace(/\s+/g, ' ').trim();
  return truncate(source || `/${origin.name}`, 100);
}
