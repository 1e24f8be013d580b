/**
 * Shapes of Discord API objects as the real API sends them (documented fields, snake_case),
 * trimmed to what a bot can observe. Built by hand so the stand-in never borrows the client
 * library's own idea of the wire format.
 */

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** Snowflake ids: ms since the Discord epoch << 22, plus a counter, as Discord mints them. */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return ((BigInt(at) - DISCORD_EPOCH) << 22n | (1n << 17n) | increment).toString();
}

/** Permission bits used here (Discord's permission flags). */
export const PERMISSIONS = {
  CreateInstantInvite: 1n << 0n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  UseApplicationCommands: 1n << 31n,
  CreatePublicThreads: 1n << 35n,
  SendMessagesInThreads: 1n << 38n,
} as const;

export const EVERYONE_PERMISSIONS =
  PERMISSIONS.CreateInstantInvite | PERMISSIONS.AddReactions | PERMISSIONS.ViewChannel | PERMISSIONS.SendMessages |
  PERMISSIONS.EmbedLinks | PERMISSIONS.AttachFiles | PERMISSIONS.ReadMessageHistory | PERMISSIONS.UseApplicationCommands |
  PERMISSIONS.CreatePublicThreads | PERMISSIONS.SendMessagesInThreads;

export interface UserSpec {
  id: string;
  name: string;
  /** Holds the Moderators role (Manage Messages). */
  canModerate?: boolean;
  bot?: boolean;
}

export function userObject(u: UserSpec) {
  return {
    id: u.id,
    username: u.name.toLowerCase().replace(/[^a-z0-9_.]/g, '') || 'user',
    global_name: u.name,
    discriminator: '0',
    avatar: null,
    public_flags: 0,
    ...(u.bot && { bot: true }),
  };
}

export function memberObject(u: UserSpec, roles: string[], permissions?: bigint) {
  return {
    user: userObject(u),
    nick: null,
    avatar: null,
    roles,
    joined_at: '2025-01-01T00:00:00.000000+00:00',
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
    ...(permissions !== undefined && { permissions: permissions.toString() }),
  };
}

export interface ChannelState {
  id: string;
  type: number; // 0 text, 11 public thread
  guild_id: string;
  name: string;
  parent_id: string | null;
  owner_id?: string;
  last_message_id: string | null;
  /** DM channels (type 1): the member on the other side. */
  recipient_id?: string;
}

export function channelObject(c: ChannelState) {
  const base = {
    id: c.id,
    type: c.type,
    guild_id: c.guild_id,
    name: c.name,
    parent_id: c.parent_id,
    last_message_id: c.last_message_id,
    rate_limit_per_user: 0,
    flags: 0,
  };
  if (c.type === 11) {
    return {
      ...base,
      owner_id: c.owner_id,
      member_count: 1,
      message_count: 0,
      total_message_sent: 0,
      thread_metadata: { archived: false, auto_archive_duration: 4320, archive_timestamp: new Date().toISOString(), locked: false, create_timestamp: new Date().toISOString() },
    };
  }
  return { ...base, position: 0, permission_overwrites: [], topic: null, nsfw: false };
}

export interface AttachmentState {
  id: string;
  filename: string;
  size: number;
  content_type: string;
  url: string;
  proxy_url: string;
  /** Stand-in only: the uploaded bytes, so tests can read a file back. */
  data?: Buffer;
}

export function cdnAttachment(channelId: string, filename: string, size: number, contentType: string, data?: Buffer): AttachmentState {
  const id = snowflake();
  const signed = `?ex=${(Math.floor(Date.now() / 1000) + 86_400).toString(16)}&is=${Math.floor(Date.now() / 1000).toString(16)}&hm=${'ab'.repeat(32)}&`;
  return {
    id,
    filename,
    size,
    content_type: contentType,
    url: `https://cdn.discordapp.com/attachments/${channelId}/${id}/${filename}${signed}`,
    proxy_url: `https://media.discordapp.net/attachments/${channelId}/${id}/${filename}${signed}`,
    ...(data && { data }),
  };
}

export interface MessageState {
  id: string;
  channel_id: string;
  guild_id: string;
  author: ReturnType<typeof userObject>;
  content: string;
  components: unknown[];
  attachments: AttachmentState[];
  flags: number;
  type: number;
  timestamp: string;
  edited_timestamp: string | null;
  webhook_id?: string;
  application_id?: string;
  interaction_metadata?: Record<string, unknown>;
  message_reference?: Record<string, unknown>;
  mentions: ReturnType<typeof userObject>[];
  thread?: ReturnType<typeof channelObject>;
  /** Stand-in only, not on the wire: ephemeral messages are seen by one user only. */
  visibleTo?: string;
  deleted?: boolean;
  /** Stand-in only: the interaction whose response or follow-up this is. */
  viaInteraction?: string;
  /** Stand-in only: emoji the bot reacted with. */
  reactions?: string[];
}

export function messageObject(m: MessageState) {
  const { visibleTo: _v, deleted: _d, viaInteraction: _i, reactions: _r, ...wire } = m;
  return {
    ...wire,
    attachments: m.attachments.map(({ data: _data, ...a }) => a),
    tts: false,
    mention_everyone: false,
    mention_roles: [],
    embeds: [],
    pinned: false,
  };
}
