import type { Client, Interaction } from 'discord.js';
import { channelOf, type RawChannel } from './interaction-context.ts';

const MAX_REMEMBERED = 10_000;

/** Keeps `key` as the newest entry, dropping the oldest past MAX_REMEMBERED. */
export function remember<K, V>(map: Map<K, V> | Set<K>, key: K, value?: V): void {
  if (map instanceof Map) {
    map.delete(key);
    map.set(key, value as V);
  } else {
    map.delete(key);
    map.add(key);
  }
  if (map.size > MAX_REMEMBERED) {
    const oldest = map.keys().next().value as K;
    map.delete(oldest);
  }
}

/**
 * What the adapter learns about places from the interactions it sees: raw channel objects
 * (discord.js only keeps channels it has cached), the threads it opened, which guild a channel
 * is in and each guild's upload limit. Bounded; the oldest entries go first.
 */
export class PlaceMemory {
  /** Interaction payloads' channel objects, by interaction id. */
  readonly rawChannels = new Map<string, RawChannel>();
  readonly ownThreads = new Set<string>();
  private readonly guildLimits = new Map<string, number>();
  private readonly channelLimits = new Map<string, number>();
  private readonly channelGuilds = new Map<string, string>();

  /** Where the interaction happened, from discord.js's cache or its raw payload. */
  channelOf(i: Interaction) {
    return channelOf(i, this.rawChannels.get(i.id));
  }

  rememberInteraction(i: Interaction): void {
    const place = this.channelOf(i);
    if (!i.guildId || !place.id) return;
    remember(this.channelGuilds, place.id, i.guildId);
    if (place.parentId) remember(this.channelGuilds, place.parentId, i.guildId);
    const limit = i.attachmentSizeLimit;
    if (typeof limit === 'number' && limit > 0) {
      remember(this.guildLimits, i.guildId, limit);
      remember(this.channelLimits, place.id, limit);
    }
  }

  /** A thread this adapter started from a message in `parentChannelId`. */
  rememberThread(threadId: string, parentChannelId: string, guildId: string | undefined): void {
    remember(this.ownThreads, threadId);
    const guild = guildId ?? this.channelGuilds.get(parentChannelId);
    if (guild) remember(this.channelGuilds, threadId, guild);
  }

  /** The per-file upload limit seen for this channel or its guild, if any. */
  uploadLimit(channelId: string, client: Client | undefined): number | undefined {
    const direct = this.channelLimits.get(channelId);
    if (direct) return direct;
    const cached = client?.channels.cache.get(channelId);
    const guildId = this.channelGuilds.get(channelId) ?? (cached && 'guildId' in cached ? cached.guildId : undefined);
    return guildId ? this.guildLimits.get(guildId) : undefined;
  }
}
