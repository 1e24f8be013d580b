import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayStandIn } from './gateway.ts';
import {
  EVERYONE_PERMISSIONS,
  PERMISSIONS,
  cdnAttachment,
  channelObject,
  memberObject,
  messageObject,
  snowflake,
  userObject,
  type AttachmentState,
  type ChannelState,
  type MessageState,
  type UserSpec,
} from './payloads.ts';

/**
 * A local stand-in for Discord's REST API (v10, under /api) and gateway, for driving the real
 * discord.js client without the network. It keeps a small world (one guild, its channels,
 * threads and messages), enforces the documented rules a bot can trip over (3 s to answer an
 * interaction, one answer only, 15-minute interaction tokens, upload size limit, component
 * limits, bot-token auth), and records every HTTP call so tests can assert on the wire.
 */

export interface RecordedFile {
  field: string;
  filename: string;
  contentType: string;
  size: number;
}

export interface RecordedCall {
  method: string;
  /** Path after /api/v10, e.g. /channels/123/messages. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  json?: any;
  files?: RecordedFile[];
  status: number;
  /** performance.now() when the request arrived. */
  time: number;
}

export interface InjectedFailure {
  method: string;
  path: RegExp;
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  times: number;
}

interface InteractionState {
  id: string;
  token: string;
  payload: unknown;
  type: number;
  dispatchedAt: number;
  channelId: string;
  user: UserSpec;
  /** Response type of the first answer (4, 5, 6, 7, 8, 9), once answered. */
  answered?: number;
  ephemeral?: boolean;
  originalMessageId?: string;
  /** For component interactions: the message the component is on. */
  sourceMessageId?: string;
}

export interface StandInOptions {
  token?: string;
  appId?: string;
  /** Whether the app was granted the privileged MESSAGE_CONTENT intent in the developer portal. */
  messageContentApproved?: boolean;
  /** Guild upload limit, reported to the bot as attachment_size_limit. */
  attachmentSizeLimit?: number;
  interactionDeadlineMs?: number;
  interactionTokenTtlMs?: number;
  heartbeatIntervalMs?: number;
  /** The window of Discord's two renames per channel or thread (10 minutes); tests shorten it. */
  renameWindowMs?: number;
}

export type OptionValue = string | number | boolean | { attachment: { filename: string; size: number; contentType: string; url?: string } } | { user: UserSpec };

export const BOT_TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.stand-in-secret-token-0123456789abcdef';

/** Renames Discord allows a channel or thread per window. */
const RENAMES_PER_WINDOW = 2;

/** How long Discord remembers an enforced nonce ("the past few minutes"). */
const NONCE_WINDOW_MS = 5 * 60_000;

export class DiscordStandIn {
  readonly calls: RecordedCall[] = [];
  readonly token: string;
  readonly appId: string;
  readonly guildId = snowflake();
  readonly moderatorRoleId = snowflake();
  readonly bot: UserSpec;
  readonly channels = new Map<string, ChannelState>();
  readonly messages = new Map<string, MessageState>();
  readonly interactions = new Map<string, InteractionState>();
  /** Interactions by token: every webhook call looks one up, and a bench run makes thousands. */
  private readonly interactionsByToken = new Map<string, InteractionState>();
  readonly registeredCommands = new Map<string, unknown[]>();
  private readonly moderators = new Set<string>();
  attachmentSizeLimit: number;
  interactionDeadlineMs: number;
  interactionTokenTtlMs: number;
  renameWindowMs: number;
  /** When each channel was renamed, for the rename sublimit. */
  private readonly renames = new Map<string, number[]>();
  gateway!: GatewayStandIn;
  apiUrl = '';

  private server!: Server;
  private readonly failures: InjectedFailure[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly options: StandInOptions) {
    this.token = options.token ?? BOT_TOKEN;
    this.appId = options.appId ?? '123456789012345678';
    this.bot = { id: this.appId, name: 'dailies', bot: true };
    this.attachmentSizeLimit = options.attachmentSizeLimit ?? 10 * 1024 * 1024;
    this.interactionDeadlineMs = options.interactionDeadlineMs ?? 3000;
    this.interactionTokenTtlMs = options.interactionTokenTtlMs ?? 15 * 60 * 1000;
    this.renameWindowMs = options.renameWindowMs ?? 10 * 60 * 1000;
  }

  static async start(options: StandInOptions = {}): Promise<DiscordStandIn> {
    const s = new DiscordStandIn(options);
    s.addChannel('general');
    s.server = createServer((req, res) => void s.onRequest(req, res));
    // Discord's edge keeps idle connections open for minutes; Node's default is 5 s.
    s.server.keepAliveTimeout = 60_000;
    s.gateway = new GatewayStandIn(s.server, {
      token: s.token,
      messageContentApproved: options.messageContentApproved ?? true,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      ready: () => s.readyPayload(),
      guildCreate: () => s.guildPayload(),
    });
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    const { port } = s.server.address() as AddressInfo;
    s.apiUrl = `http://127.0.0.1:${port}/api`;
    return s;
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- world ------------------------------------------------------------------------------

  get defaultChannelId(): string {
    return [...this.channels.values()].find((c) => c.type === 0)!.id;
  }

  addChannel(name: string): string {
    const id = snowflake();
    this.channels.set(id, { id, type: 0, guild_id: this.guildId, name, parent_id: null, last_message_id: null });
    return id;
  }

  /** Messages in a channel or thread, oldest first, as everyone (not one user's ephemerals) sees them. */
  channelMessages(channelId: string): MessageState[] {
    return [...this.messages.values()].filter((m) => m.channel_id === channelId && !m.deleted && !m.visibleTo);
  }

  ephemeralsFor(userId: string): MessageState[] {
    return [...this.messages.values()].filter((m) => m.visibleTo === userId && !m.deleted);
  }

  threads(): ChannelState[] {
    return [...this.channels.values()].filter((c) => c.type === 11);
  }

  private readyPayload() {
    return {
      v: 10,
      user: { ...userObject(this.bot), verified: true, mfa_enabled: false, flags: 0 },
      guilds: [{ id: this.guildId, unavailable: true }],
      session_id: 'stand-in-session',
      resume_gateway_url: this.apiUrl.replace(/^http/, 'ws').replace(/\/api$/, '/gateway'),
      shard: [0, 1],
      application: { id: this.appId, flags: 0 },
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
    };
  }

  private guildPayload() {
    return {
      id: this.guildId,
      name: 'Stand-in Studio',
      icon: null,
      owner_id: snowflake(),
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      preferred_locale: 'en-US',
      features: [],
      roles: [
        { id: this.guildId, name: '@everyone', permissions: EVERYONE_PERMISSIONS.toString(), position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 },
        { id: this.moderatorRoleId, name: 'Moderators', permissions: PERMISSIONS.ManageMessages.toString(), position: 1, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 },
      ],
      emojis: [],
      stickers: [],
      joined_at: '2025-01-01T00:00:00.000000+00:00',
      large: false,
      unavailable: false,
      member_count: 3,
      members: [memberObject(this.bot, [])],
      channels: [...this.channels.values()].filter((c) => c.type === 0).map(channelObject),
      threads: this.threads().map(channelObject),
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  private permissionsOf(user: UserSpec): bigint {
    return EVERYONE_PERMISSIONS | (user.canModerate ? PERMISSIONS.ManageMessages : 0n);
  }

  private rolesOf(user: UserSpec): string[] {
    return user.canModerate ? [this.moderatorRoleId] : [];
  }

  // ---- injecting events -------------------------------------------------------------------

  private interactionBase(type: number, user: UserSpec, channelId: string) {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`stand-in: no channel ${channelId}`);
    const id = snowflake();
    const token = `aW50ZXJhY3Rpb246${id}_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    const payload = {
      id,
      application_id: this.appId,
      type,
      token,
      version: 1,
      guild_id: this.guildId,
      guild: { id: this.guildId, locale: 'en-US', features: [] },
      channel_id: channelId,
      channel: { ...channelObject(channel), permissions: this.permissionsOf(user).toString() },
      member: memberObject(user, this.rolesOf(user), this.permissionsOf(user)),
      app_permissions: (EVERYONE_PERMISSIONS | PERMISSIONS.ManageMessages).toString(),
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      entitlement_sku_ids: [],
      authorizing_integration_owners: { '0': this.guildId },
      context: 0,
      attachment_size_limit: this.attachmentSizeLimit,
    };
    return { id, token, payload };
  }

  private inject(state: Omit<InteractionState, 'dispatchedAt' | 'payload'>, payload: unknown): { id: string; token: string; dispatchedAt: number } {
    const entry: InteractionState = { ...state, payload, dispatchedAt: performance.now() };
    this.interactions.set(state.id, entry);
    this.interactionsByToken.set(state.token, entry);
    entry.dispatchedAt = this.gateway.dispatch('INTERACTION_CREATE', payload);
    return { id: state.id, token: state.token, dispatchedAt: entry.dispatchedAt };
  }

  /**
   * Delivers an interaction again, byte for byte (as after a gateway resume). Its token and
   * deadline are the original's, so answering it again gets 40060 "already acknowledged".
   */
  redeliver(id: string): { id: string; token: string; dispatchedAt: number } {
    const i = this.interactions.get(id);
    if (!i) throw new Error(`stand-in: no interaction ${id} to redeliver`);
    return { id, token: i.token, dispatchedAt: this.gateway.dispatch('INTERACTION_CREATE', i.payload) };
  }

  /** Delivers a member's message again (same id and content). */
  redeliverMessage(id: string): MessageState {
    const m = this.messages.get(id);
    if (!m) throw new Error(`stand-in: no message ${id} to redeliver`);
    this.gateway.dispatch('MESSAGE_CREATE', this.messageWire(m));
    return m;
  }

  private messageWire(message: MessageState) {
    const visible = this.gateway.hasMessageContent || message.mentions.some((u) => u.id === this.bot.id);
    const author = { id: message.author.id, name: message.author.global_name ?? message.author.username, ...(this.moderators.has(message.author.id) && { canModerate: true }) };
    return { ...messageObject(message), ...(!visible && { content: '', attachments: [], embeds: [] }), member: memberObject(author, this.rolesOf(author)) };
  }

  /** A slash command as Discord delivers it (type 2), with typed options and resolved attachments. */
  command(name: string, options: Record<string, OptionValue> = {}, user: UserSpec = DEFAULT_USER, channelId = this.defaultChannelId) {
    const { id, token, payload } = this.interactionBase(2, user, channelId);
    const attachments: Record<string, AttachmentState> = {};
    // A user option (type 6) carries the id; the user and their membership come in `resolved`, as from Discord.
    const users: Record<string, unknown> = {};
    const members: Record<string, unknown> = {};
    const opts = Object.entries(options).map(([optName, value]) => {
      if (typeof value === 'object' && 'user' in value) {
        users[value.user.id] = userObject(value.user);
        const { user: _user, ...member } = memberObject(value.user, this.rolesOf(value.user), this.permissionsOf(value.user));
        members[value.user.id] = member;
        return { name: optName, type: 6, value: value.user.id };
      }
      if (typeof value === 'object') {
        const a = cdnAttachment(channelId, value.attachment.filename, value.attachment.size, value.attachment.contentType);
        if (value.attachment.url) a.url = value.attachment.url;
        attachments[a.id] = a;
        return { name: optName, type: 11, value: a.id };
      }
      const type = typeof value === 'string' ? 3 : typeof value === 'boolean' ? 5 : Number.isInteger(value) ? 4 : 10;
      return { name: optName, type, value };
    });
    const data = {
      id: snowflake(),
      name,
      type: 1,
      guild_id: this.guildId,
      options: opts,
      ...((Object.keys(attachments).length || Object.keys(users).length) && {
        resolved: { ...(Object.keys(attachments).length && { attachments }), ...(Object.keys(users).length && { users, members }) },
      }),
    };
    return this.inject({ id, token, type: 2, channelId, user }, { ...payload, data });
  }

  /**
   * Typing into an autocompleted option (type 4). The focused value is the raw input, always a
   * string (possibly empty), whatever the option's declared type (3 string, 4 integer, 10 number).
   */
  autocomplete(name: string, focused: { name: string; type: 3 | 4 | 10; typed: string }, user: UserSpec = DEFAULT_USER, channelId = this.defaultChannelId) {
    const { id, token, payload } = this.interactionBase(4, user, channelId);
    const data = { id: snowflake(), name, type: 1, options: [{ name: focused.name, type: focused.type, value: focused.typed, focused: true }] };
    return this.inject({ id, token, type: 4, channelId, user }, { ...payload, data });
  }

  /** Clicking a button (type 3) on a stored message. */
  click(messageId: string, customId: string, user: UserSpec = DEFAULT_USER) {
    const message = this.messages.get(messageId);
    if (!message) throw new Error(`stand-in: no message ${messageId}`);
    const found = (message.components as { components: { custom_id: string }[] }[]).some((row) => row.components.some((c) => c.custom_id === customId));
    if (!found) throw new Error(`stand-in: message ${messageId} has no button ${customId}`);
    const { id, token, payload } = this.interactionBase(3, user, message.channel_id);
    const data = { custom_id: customId, component_type: 2 };
    return this.inject({ id, token, type: 3, channelId: message.channel_id, user, sourceMessageId: messageId }, { ...payload, data, message: messageObject(message) });
  }

  /** Submitting a modal (type 5) the bot opened, in the current Label layout. */
  submitModal(customId: string, values: Record<string, string>, from: { messageId?: string; channelId?: string }, user: UserSpec = DEFAULT_USER) {
    const message = from.messageId ? this.messages.get(from.messageId) : undefined;
    const channelId = message?.channel_id ?? from.channelId ?? this.defaultChannelId;
    const { id, token, payload } = this.interactionBase(5, user, channelId);
    const data = {
      custom_id: customId,
      components: Object.entries(values).map(([fieldId, value], n) => ({ type: 18, id: n * 2 + 1, component: { type: 4, id: n * 2 + 2, custom_id: fieldId, value } })),
    };
    return this.inject(
      { id, token, type: 5, channelId, user, ...(message && { sourceMessageId: message.id }) },
      { ...payload, data, ...(message && { message: messageObject(message) }) },
    );
  }

  /**
   * A member's message (MESSAGE_CREATE). Without the MESSAGE_CONTENT intent Discord blanks
   * content, attachments and embeds unless the bot is mentioned; the stand-in does the same.
   */
  userMessage(channelId: string, text: string, opts: { user?: UserSpec; mentionBot?: boolean; attachments?: { filename: string; size: number; contentType: string }[] } = {}) {
    const user = opts.user ?? DEFAULT_USER;
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`stand-in: no channel ${channelId}`);
    const content = opts.mentionBot ? `<@${this.bot.id}> ${text}` : text;
    const message: MessageState = {
      id: snowflake(),
      channel_id: channelId,
      guild_id: this.guildId,
      author: userObject(user),
      content,
      components: [],
      attachments: (opts.attachments ?? []).map((a) => cdnAttachment(channelId, a.filename, a.size, a.contentType)),
      flags: 0,
      type: 0,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      mentions: opts.mentionBot ? [userObject(this.bot)] : [],
    };
    this.messages.set(message.id, message);
    channel.last_message_id = message.id;
    if (user.canModerate) this.moderators.add(user.id);
    this.gateway.dispatch('MESSAGE_CREATE', this.messageWire(message));
    return message;
  }

  // ---- failures and waiting ---------------------------------------------------------------

  /** The next `times` matching requests get this answer instead (e.g. a 429 with Retry-After). */
  failNext(failure: Omit<InjectedFailure, 'times'> & { times?: number }): void {
    this.failures.push({ times: 1, ...failure });
  }

  rateLimitNext(method: string, path: RegExp, retryAfterSeconds: number): void {
    this.failNext({
      method,
      path,
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: false },
      headers: {
        'retry-after': String(retryAfterSeconds),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': String(retryAfterSeconds),
        'x-ratelimit-bucket': 'stand-in-bucket',
        'x-ratelimit-scope': 'user',
      },
    });
  }

  /** Resolves with the first recorded call (past or future) matching `pred`. */
  async waitForCall(pred: (c: RecordedCall) => boolean, timeoutMs = 5000): Promise<RecordedCall> {
    return this.waitUntil(() => this.calls.find(pred), timeoutMs, 'a matching HTTP call');
  }

  async waitUntil<T>(probe: () => T | undefined | false, timeoutMs = 5000, what = 'a condition'): Promise<T> {
    const now = probe();
    if (now) return now;
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const v = probe();
        if (v) {
          clearTimeout(timer);
          clearInterval(poll);
          this.waiters.delete(check);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        clearInterval(poll);
        this.waiters.delete(check);
        reject(new Error(`stand-in: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      // Conditions outside the stand-in (the adapter's own state) change without an HTTP call.
      const poll = setInterval(check, 5);
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  // ---- REST -------------------------------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Arrival is when the headers are parsed: the platform has the request then. Reading the body
    // waits on this process's own event loop, which under a burst is the stand-in's queue, not the bot's.
    const arrivedAt = performance.now();
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const call: RecordedCall = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname.replace(/^\/api(\/v\d+)?/, '')),
      query: Object.fromEntries(url.searchParams),
      headers: { authorization: req.headers.authorization, 'content-type': req.headers['content-type'], 'user-agent': req.headers['user-agent'] },
      status: 0,
      time: arrivedAt,
    };
    let reply: { status: number; body?: unknown; headers?: Record<string, string> };
    try {
      const body = await this.parseBody(req.headers['content-type'], raw, call);
      reply = this.injectedFailure(call) ?? this.route(call, body);
    } catch (error) {
      reply = { status: 500, body: { message: `stand-in error: ${(error as Error).message}`, code: 0 } };
    }
    call.status = reply.status;
    this.calls.push(call);
    res.writeHead(reply.status, { ...(reply.status !== 204 && { 'content-type': 'application/json' }), ...reply.headers });
    res.end(reply.status === 204 ? undefined : JSON.stringify(reply.body ?? {}));
    this.notify();
  }

  private async parseBody(contentType: string | undefined, raw: Buffer, call: RecordedCall): Promise<{ json?: any; files: (RecordedFile & { data: Buffer })[] }> {
    if (!raw.length) return { files: [] };
    if (contentType?.startsWith('application/json')) {
      call.json = JSON.parse(raw.toString('utf8'));
      return { json: call.json, files: [] };
    }
    if (contentType?.startsWith('multipart/form-data')) {
      const form = await new Request('http://stand-in/', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(raw) }).formData();
      const files: (RecordedFile & { data: Buffer })[] = [];
      const entries: [string, FormDataEntryValue][] = [];
      form.forEach((value, field) => entries.push([field, value]));
      for (const [field, value] of entries) {
        if (typeof value === 'string') {
          if (field === 'payload_json') call.json = JSON.parse(value);
        } else {
          files.push({ field, filename: value.name, contentType: value.type, size: value.size, data: Buffer.from(await value.arrayBuffer()) });
        }
      }
      call.files = files.map(({ data: _d, ...f }) => f);
      return { json: call.json, files };
    }
    return { files: [] };
  }

  private injectedFailure(call: RecordedCall) {
    const f = this.failures.find((x) => x.times > 0 && x.method === call.method && x.path.test(call.path));
    if (!f) return undefined;
    f.times -= 1;
    return { status: f.status, body: f.body, ...(f.headers && { headers: f.headers }) };
  }

  private route(call: RecordedCall, body: { json?: any; files: (RecordedFile & { data: Buffer })[] }): { status: number; body?: unknown; headers?: Record<string, string> } {
    const p = call.path;
    const m = (re: RegExp) => p.match(re);
    let g: RegExpMatchArray | null;

    // Interaction endpoints authenticate by the token in the path.
    if (call.method === 'POST' && (g = m(/^\/interactions\/(\d+)\/([^/]+)\/callback$/))) return this.callback(g[1]!, g[2]!, body);
    if ((g = m(/^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original|\d+))?$/))) return this.webhook(call.method, g[1]!, g[2]!, g[3], body);

    if (call.headers.authorization !== `Bot ${this.token}`) return { status: 401, body: { message: '401: Unauthorized', code: 0 } };

    if (call.method === 'GET' && p === '/gateway/bot') {
      return {
        status: 200,
        body: {
          url: this.apiUrl.replace(/^http/, 'ws').replace(/\/api$/, '/gateway'),
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
        },
      };
    }
    if (call.method === 'GET' && (g = m(/^\/channels\/(\d+)$/))) {
      const c = this.channels.get(g[1]!);
      return c ? { status: 200, body: channelObject(c) } : notFound(10003, 'Unknown Channel');
    }
    if (call.method === 'PATCH' && (g = m(/^\/channels\/(\d+)$/))) return this.editChannel(g[1]!, body.json ?? {});
    if (call.method === 'POST' && p === '/users/@me/channels') return this.openDm(String(body.json?.recipient_id ?? ''));
    if (call.method === 'PUT' && (g = m(/^\/channels\/(\d+)\/messages\/(\d+)\/reactions\/([^/]+)\/@me$/))) {
      const msg = this.messages.get(g[2]!);
      if (!msg || msg.channel_id !== g[1]) return notFound(10008, 'Unknown Message');
      (msg.reactions ??= []).push(g[3]!);
      return { status: 204 };
    }
    if (call.method === 'POST' && (g = m(/^\/channels\/(\d+)\/messages$/))) return this.createMessage(g[1]!, body);
    if (call.method === 'PATCH' && (g = m(/^\/channels\/(\d+)\/messages\/(\d+)$/))) return this.editMessage(g[1]!, g[2]!, body.json ?? {}, body.files);
    if (call.method === 'POST' && (g = m(/^\/channels\/(\d+)\/messages\/(\d+)\/threads$/))) return this.startThread(g[1]!, g[2]!, body.json ?? {});
    if (call.method === 'PUT' && (g = m(/^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/))) {
      if (g[1] !== this.appId) return { status: 403, body: { message: 'Missing Access', code: 50001 } };
      if (g[2] && g[2] !== this.guildId) return { status: 403, body: { message: 'Missing Access', code: 50001 } };
      const list = (body.json as { name: string }[]).map((c) => ({ ...c, id: snowflake(), application_id: this.appId, version: snowflake(), ...(g![2] && { guild_id: g![2] }) }));
      this.registeredCommands.set(g[2] ?? 'global', list);
      return { status: 200, body: list };
    }
    return notFound(0, '404: Not Found');
  }

  private callback(id: string, token: string, body: { json?: any; files: (RecordedFile & { data: Buffer })[] }) {
    const i = this.interactions.get(id);
    if (!i || i.token !== token) return notFound(10062, 'Unknown interaction');
    if (performance.now() - i.dispatchedAt > this.interactionDeadlineMs) return notFound(10062, 'Unknown interaction');
    if (i.answered !== undefined) return { status: 400, body: { message: 'Interaction has already been acknowledged.', code: 40060 } };
    const type = body.json?.type as number;
    const data = body.json?.data ?? {};
    const allowed: Record<number, number[]> = { 2: [4, 5, 9], 3: [4, 5, 6, 7, 9], 4: [8], 5: [4, 5, 6, 7] };
    if (!allowed[i.type]?.includes(type)) return { status: 400, body: { message: 'Interaction callback type invalid for this interaction', code: 50035 } };
    if (type === 8 && (!Array.isArray(data.choices) || data.choices.length > 25)) return badForm('choices: at most 25');
    if (type === 9) {
      if (typeof data.custom_id !== 'string' || data.custom_id.length > 100 || typeof data.title !== 'string' || data.title.length > 45) return badForm('modal custom_id/title');
      if (!Array.isArray(data.components) || data.components.length < 1 || data.components.length > 5) return badForm('modal components');
    }
    i.answered = type;
    if (type === 4 || type === 5) {
      i.ephemeral = ((data.flags ?? 0) & 64) !== 0;
      const msg = this.newMessage(i.channelId, {
        content: type === 4 ? (data.content ?? '') : '',
        components: data.components ?? [],
        flags: (data.flags ?? 0) | (type === 5 ? 128 : 0),
        type: 20,
        webhook: true,
        interactionUser: i.user,
        viaInteraction: i.id,
        ...(i.ephemeral && { visibleTo: i.user.id }),
      });
      i.originalMessageId = msg.id;
    }
    if (type === 6 || type === 7) i.originalMessageId = i.sourceMessageId;
    return { status: 204 };
  }

  private webhook(method: string, appId: string, token: string, target: string | undefined, body: { json?: any; files: (RecordedFile & { data: Buffer })[] }) {
    const i = this.interactionsByToken.get(token);
    if (appId !== this.appId || !i) return notFound(10015, 'Unknown Webhook');
    if (performance.now() - i.dispatchedAt > this.interactionTokenTtlMs) return { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } };
    if (i.answered === undefined) return notFound(10015, 'Unknown Webhook');
    if (method === 'POST' && !target) {
      const data = body.json ?? {};
      const tooBig = this.checkMessage(data, body.files);
      if (tooBig) return tooBig;
      const msg = this.newMessage(i.channelId, {
        content: data.content ?? '',
        components: data.components ?? [],
        flags: data.flags ?? 0,
        type: 0,
        webhook: true,
        files: body.files,
        viaInteraction: i.id,
        ...((data.flags ?? 0) & 64 && { visibleTo: i.user.id }),
      });
      return { status: 200, body: messageObject(msg) };
    }
    const id = target === '@original' ? i.originalMessageId : target;
    const msg = id ? this.messages.get(id) : undefined;
    if (!msg || msg.deleted) return notFound(10008, 'Unknown Message');
    if (method === 'GET') return { status: 200, body: messageObject(msg) };
    if (method === 'DELETE') {
      msg.deleted = true;
      return { status: 204 };
    }
    if (method === 'PATCH') {
      const data = body.json ?? {};
      const tooBig = this.checkMessage(data, body.files);
      if (tooBig) return tooBig;
      this.applyEdit(msg, data, body.files);
      msg.flags &= ~128;
      return { status: 200, body: messageObject(msg) };
    }
    return notFound(0, '404: Not Found');
  }

  /** Discord's validation of a message body a bot is likely to trip (400 Invalid Form Body / 413). */
  private checkMessage(data: any, files: RecordedFile[]) {
    if (typeof data.content === 'string' && data.content.length > 2000) return badForm('content: Must be 2000 or fewer in length.');
    const rows = (data.components ?? []) as { type: number; components: { custom_id?: string }[] }[];
    if (rows.length > 5) return badForm('components: Must be 5 or fewer in length.');
    const ids = new Set<string>();
    for (const row of rows) {
      if (row.type !== 1 || row.components.length < 1 || row.components.length > 5) return badForm('components: action rows hold 1-5 buttons');
      for (const c of row.components) {
        if (!c.custom_id || c.custom_id.length > 100) return badForm('custom_id: Must be 100 or fewer in length.');
        if (ids.has(c.custom_id)) return badForm('custom_id: Component custom id cannot be duplicated');
        ids.add(c.custom_id);
      }
    }
    if (files.some((f) => f.size > this.attachmentSizeLimit)) return { status: 413, body: { message: 'Request entity too large', code: 40005 } };
    return undefined;
  }

  private createMessage(channelId: string, body: { json?: any; files: (RecordedFile & { data: Buffer })[] }) {
    const channel = this.channels.get(channelId);
    if (!channel) return notFound(10003, 'Unknown Channel');
    const data = body.json ?? {};
    const invalid = this.checkMessage(data, body.files);
    if (invalid) return invalid;
    if (!data.content && !body.files.length && !(data.components ?? []).length) return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
    // nonce: at most 25 characters; with enforce_nonce, a nonce the same author used in the last
    // few minutes returns that message instead of creating another (Discord's create-message docs).
    if (data.nonce !== undefined && (typeof data.nonce !== 'string' || data.nonce.length > 25)) return badForm('nonce: at most 25 characters');
    const nonceKey = data.enforce_nonce && data.nonce ? `${channelId}:${data.nonce}` : null;
    const earlier = nonceKey ? this.nonces.get(nonceKey) : undefined;
    if (earlier && performance.now() - earlier.at < NONCE_WINDOW_MS) return { status: 200, body: messageObject(earlier.msg) };
    const msg = this.newMessage(channelId, {
      content: data.content ?? '',
      components: data.components ?? [],
      flags: data.flags ?? 0,
      type: data.message_reference ? 19 : 0,
      files: body.files,
      ...(data.message_reference && { reference: { message_id: data.message_reference.message_id, channel_id: channelId, guild_id: this.guildId } }),
    });
    if (nonceKey) this.nonces.set(nonceKey, { msg, at: performance.now() });
    return { status: 200, body: messageObject(msg) };
  }

  private readonly nonces = new Map<string, { msg: MessageState; at: number }>();

  /** DMs to members who allow them (the default); `dmsClosed` users answer 50007 like Discord. */
  readonly dmsClosed = new Set<string>();

  private openDm(recipientId: string) {
    if (!/^\d+$/.test(recipientId)) return badForm('recipient_id: invalid');
    if (this.dmsClosed.has(recipientId)) return { status: 403, body: { message: 'Cannot send messages to this user', code: 50007 } };
    const existing = [...this.channels.values()].find((c) => c.type === 1 && c.recipient_id === recipientId);
    const dm: ChannelState = existing ?? { id: snowflake(), type: 1, guild_id: '', name: '', parent_id: null, last_message_id: null, recipient_id: recipientId };
    this.channels.set(dm.id, dm);
    return { status: 200, body: { id: dm.id, type: 1, last_message_id: dm.last_message_id, flags: 0, recipients: [{ id: recipientId, username: 'member', discriminator: '0', global_name: null, avatar: null }] } };
  }

  /** The DMs the bot sent to a member, oldest first. */
  directMessagesTo(userId: string): MessageState[] {
    const dm = [...this.channels.values()].find((c) => c.type === 1 && c.recipient_id === userId);
    return dm ? this.channelMessages(dm.id) : [];
  }

  /**
   * PATCH a channel or thread; only `name` is kept here. Discord allows two renames per channel
   * per ten minutes: a third is a 429 whose retry_after says when the oldest leaves the window,
   * while the route's bucket still shows room (a sublimit, which discord.js tells apart by that).
   */
  private editChannel(channelId: string, data: any) {
    const channel = this.channels.get(channelId);
    if (!channel) return notFound(10003, 'Unknown Channel');
    if (!('name' in data)) return { status: 200, body: channelObject(channel) };
    if (typeof data.name !== 'string' || data.name.length < 1 || data.name.length > 100) return badForm('name: Must be between 1 and 100 in length.');
    const now = performance.now();
    const recent = (this.renames.get(channelId) ?? []).filter((at) => at > now - this.renameWindowMs);
    if (recent.length >= RENAMES_PER_WINDOW) {
      const retryAfter = Math.max(0.001, (recent[0]! + this.renameWindowMs - now) / 1000);
      return {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: Number(retryAfter.toFixed(3)), global: false },
        headers: {
          'retry-after': String(Math.ceil(retryAfter)),
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '4',
          'x-ratelimit-reset-after': '1',
          'x-ratelimit-bucket': 'stand-in-channel-edit',
          'x-ratelimit-scope': 'user',
        },
      };
    }
    this.renames.set(channelId, [...recent, now]);
    channel.name = data.name;
    if (channel.type === 11) this.gateway.dispatch('THREAD_UPDATE', channelObject(channel));
    return { status: 200, body: channelObject(channel) };
  }

  /** PATCH a message: JSON, or multipart with new files (`attachments` lists the files kept and the new ones by index). */
  private editMessage(channelId: string, messageId: string, data: any, files: (RecordedFile & { data: Buffer })[]) {
    const msg = this.messages.get(messageId);
    if (!msg || msg.channel_id !== channelId || msg.deleted) return notFound(10008, 'Unknown Message');
    if (msg.author.id !== this.bot.id) return { status: 403, body: { message: 'Cannot edit a message authored by another user', code: 50005 } };
    const invalid = this.checkMessage(data, files);
    if (invalid) return invalid;
    this.applyEdit(msg, data, files);
    return { status: 200, body: messageObject(msg) };
  }

  private startThread(channelId: string, messageId: string, data: any) {
    const parent = this.channels.get(channelId);
    const msg = this.messages.get(messageId);
    if (!parent || !msg || msg.channel_id !== channelId || msg.deleted || msg.visibleTo) return notFound(10008, 'Unknown Message');
    if (parent.type !== 0) return { status: 400, body: { message: 'Cannot execute action on this channel type', code: 50024 } };
    if (msg.thread) return { status: 400, body: { message: 'A thread has already been created for this message', code: 160004 } };
    if (typeof data.name !== 'string' || data.name.length < 1 || data.name.length > 100) return badForm('name: Must be between 1 and 100 in length.');
    // A thread started from a message takes the message's id.
    const thread: ChannelState = { id: messageId, type: 11, guild_id: this.guildId, name: data.name, parent_id: channelId, owner_id: this.bot.id, last_message_id: null };
    this.channels.set(thread.id, thread);
    msg.thread = channelObject(thread);
    this.gateway.dispatch('THREAD_CREATE', { ...channelObject(thread), newly_created: true, member: { id: thread.id, user_id: this.bot.id, join_timestamp: new Date().toISOString(), flags: 0 } });
    return { status: 201, body: channelObject(thread) };
  }

  private newMessage(
    channelId: string,
    o: { content: string; components: unknown[]; flags: number; type: number; webhook?: boolean; interactionUser?: UserSpec; visibleTo?: string; files?: (RecordedFile & { data: Buffer })[]; reference?: Record<string, unknown>; viaInteraction?: string },
  ): MessageState {
    const msg: MessageState = {
      id: snowflake(),
      channel_id: channelId,
      guild_id: this.guildId,
      author: userObject(this.bot),
      content: o.content,
      components: o.components,
      attachments: (o.files ?? []).map((f) => cdnAttachment(channelId, f.filename, f.size, f.contentType, f.data)),
      flags: o.flags,
      type: o.type,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      mentions: [],
      ...(o.webhook && { webhook_id: this.appId, application_id: this.appId }),
      ...(o.interactionUser && { interaction_metadata: { id: snowflake(), type: 2, user: userObject(o.interactionUser), authorizing_integration_owners: { '0': this.guildId } } }),
      ...(o.visibleTo && { visibleTo: o.visibleTo }),
      ...(o.reference && { message_reference: o.reference }),
      ...(o.viaInteraction && { viaInteraction: o.viaInteraction }),
    };
    this.messages.set(msg.id, msg);
    const channel = this.channels.get(channelId);
    // DMs need the DirectMessages intent to come back over the gateway; this bot does not ask for it.
    if (channel && !o.visibleTo && channel.type !== 1) {
      channel.last_message_id = msg.id;
      this.gateway.dispatch('MESSAGE_CREATE', { ...messageObject(msg), member: memberObject(this.bot, []) });
    }
    return msg;
  }

  private applyEdit(msg: MessageState, data: any, files: (RecordedFile & { data?: Buffer })[]): void {
    if ('content' in data) msg.content = data.content ?? '';
    if ('components' in data) msg.components = data.components ?? [];
    // Discord keeps existing files unless `attachments` is given; new files are appended.
    if (Array.isArray(data.attachments)) {
      const keep = new Set((data.attachments as { id: string | number }[]).map((a) => String(a.id)));
      // A file left out is gone from the CDN too: reading it afterwards yields nothing.
      for (const a of msg.attachments) if (!keep.has(a.id)) delete a.data;
      msg.attachments = msg.attachments.filter((a) => keep.has(a.id));
    }
    msg.attachments.push(...files.map((f) => cdnAttachment(msg.channel_id, f.filename, f.size, f.contentType, f.data)));
    msg.edited_timestamp = new Date().toISOString();
  }
}

export const DEFAULT_USER: UserSpec = { id: '200000000000000001', name: 'Ada' };
export const MODERATOR: UserSpec = { id: '200000000000000002', name: 'Mo', canModerate: true };

function notFound(code: number, message: string) {
  return { status: 404, body: { message, code } };
}

function badForm(detail: string) {
  return { status: 400, body: { message: 'Invalid Form Body', code: 50035, errors: { detail } } };
}
