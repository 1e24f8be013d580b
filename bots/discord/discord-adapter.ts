import { createHash } from 'node:crypto';
import { Client, DiscordAPIError, GatewayIntentBits, RateLimitError, RESTJSONErrorCodes, Routes, ThreadAutoArchiveDuration, type APIMessage, type APIThreadChannel, type RateLimitData } from 'discord.js';
import type { ChatAdapter, ChatEventHandler, CommandEvent, MessageRef, OutgoingMessage, ThreadHeading, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { callCore } from '../../src/core/call-core.ts';
import { processLogger } from '../../src/logging/logger.ts';
import { DailiesError } from '../../src/errors.ts';
import { COMMAND_SPECS } from './command-definitions.ts';
import { MISSING_TOKEN_MESSAGE, loadDiscordConfig } from './config.ts';
import { fromDiscordError } from './discord-errors.ts';
import type { AdapterLogger, DiscordAdapterOptions, DiscordRuntime, Pending } from './discord-runtime.ts';
import { connect, listen } from './gateway.ts';
import { threadName } from './interaction-context.ts';
import { InteractionHandler } from './interactions.ts';
import { LIMITS, messageBody, readUploads } from './outgoing-message.ts';
import { PlaceMemory } from './place-memory.ts';
import { RateLimitLog } from './rate-limit-log.ts';
import { RecentPrompts, takeRefOfPost } from './suggestions.ts';
import { onThreadMessage } from './thread-replies.ts';
import { ThreadRenames, threadNameOf } from './thread-renames.ts';

export type { AdapterLogger, DiscordAdapterOptions, SettledEvent } from './discord-runtime.ts';

/**
 * Discord through discord.js v14. Every interaction is acknowledged before the core runs
 * (Discord allows 3 s); the session message is the deferred /video reply, and everything after
 * it goes to the thread with the bot token, since renders can outlive the 15-minute
 * interaction token.
 *
 * This class holds the connection and the outgoing side (the ChatAdapter calls); incoming events
 * are handled in ./interactions.ts (commands, clicks, forms, with ./autocomplete.ts) and
 * ./thread-replies.ts, the connection in ./gateway.ts.
 */
export class DiscordAdapter implements ChatAdapter {
  readonly platform = 'discord' as const;

  private client: Client | undefined;
  private handler: ChatEventHandler | undefined;
  private readonly log: AdapterLogger;
  private readonly pending = new Map<string, Pending>();
  private readonly places = new PlaceMemory();
  private readonly prompts = new RecentPrompts();
  private readonly takeRefs = new RecentPrompts();
  private readonly rateLimitLog = new RateLimitLog();
  private readonly rt: DiscordRuntime;
  private readonly interactions: InteractionHandler;
  private readonly renames: ThreadRenames;

  constructor(private readonly options: DiscordAdapterOptions = {}) {
    const log = options.logger ?? processLogger().child({ platform: 'discord' });
    this.log = log;
    this.rt = {
      options,
      log,
      specs: new Map((options.commands ?? COMMAND_SPECS).map((s) => [s.name, s])),
      pending: this.pending,
      places: this.places,
      prompts: this.prompts,
      takeRefs: this.takeRefs,
      client: () => this.client,
      callCore: (event) => callCore(this.handler, event, log),
      settled: (event) => {
        try {
          options.onEventSettled?.(event);
        } catch (error) {
          log.warn('discord: onEventSettled threw', { error: String(error) });
        }
      },
    };
    this.interactions = new InteractionHandler(this.rt);
    this.renames = new ThreadRenames({
      send: async (threadId, name) => {
        await this.requireClient()
          .rest.patch(Routes.channel(threadId), { body: { name } })
          .catch((e: unknown) => {
            // A 429 goes back as it is: its retry_after says when the name can be sent.
            throw e instanceof RateLimitError ? e : fromDiscordError(e, 'rename the session thread');
          });
      },
      retryAfterMs: (e) => (e instanceof RateLimitError ? Math.max(e.retryAfter, e.timeToReset, 1) : null),
      log,
      ...(options.renameWindowMs !== undefined && { windowMs: options.renameWindowMs }),
    });
  }

  /** The per-file limit where this thread lives, from the last interaction seen there. */
  maxUploadBytesFor(thread: Pick<ThreadRef, 'channelId' | 'threadId'>): number {
    return this.uploadLimit(thread.threadId) ?? this.uploadLimit(thread.channelId) ?? LIMITS.defaultAttachmentBytes;
  }

  async start(handler: ChatEventHandler): Promise<void> {
    if (this.client) throw new DailiesError('conflict', 'The Discord adapter is already running.');
    const config = this.options.config ?? loadDiscordConfig(this.options.env ?? process.env);
    if (!config.token) throw new DailiesError('missing_dependency', MISSING_TOKEN_MESSAGE);

    const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages];
    if (config.messageContent) intents.push(GatewayIntentBits.MessageContent);
    const client = new Client({
      intents,
      // A rename over Discord's sublimit would otherwise sleep in discord.js for up to ten minutes
      // and then send a name that may be stale by then; ./thread-renames.ts waits instead.
      rest: { ...(config.apiUrl ? { api: config.apiUrl } : {}), rejectOnRateLimit: isRename },
      allowedMentions: { parse: [] },
    });
    this.client = client;
    this.handler = handler;
    listen(client, this.places, this.log, this.rateLimitLog, {
      onInteraction: (i) => this.interactions.onInteraction(i),
      onMessage: (m) => onThreadMessage(this.rt, m),
      isCurrent: (c) => this.client === c,
    });
    try {
      await connect(client, config.token, config.apiUrl ?? 'https://discord.com/api', this.options.readyTimeoutMs ?? 45_000);
    } catch (error) {
      this.client = undefined;
      this.handler = undefined;
      await client.destroy().catch(() => undefined);
      throw error;
    }
    this.log.info?.('discord: connected', { user: client.user?.tag, guilds: client.guilds.cache.size, messageContent: config.messageContent });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.handler = undefined;
    this.pending.clear();
    this.renames.clear();
    await client?.destroy();
  }

  async startThread(origin: CommandEvent, message: OutgoingMessage): Promise<{ thread: ThreadRef; message: MessageRef }> {
    const client = this.requireClient();
    const files = await readUploads(message.attachments, this.uploadLimit(origin.channelId) ?? LIMITS.defaultAttachmentBytes, this.options.artifacts);
    const body = messageBody(message, files);
    const pending = this.pending.get(origin.id);

    let starter: { id: string; channelId: string };
    if (pending?.ack === 'session' && !pending.sessionMessage) {
      // Within the first seconds of the command the interaction token is fresh, and answering
      // the deferred reply keeps "/video used by …" attached to the session message.
      const sent = await pending.interaction
        .editReply({ content: body.content, components: body.components, files: files.map((f) => ({ attachment: f.data, name: f.name })), allowedMentions: { parse: [] } })
        .catch((e: unknown) => {
          throw fromDiscordError(e, 'post the session message');
        });
      // discord.js hands back raw API data when the channel is not in its cache.
      const raw = sent as unknown as Partial<APIMessage> & { channelId?: string };
      starter = { id: sent.id, channelId: raw.channelId ?? raw.channel_id ?? origin.channelId };
      pending.sessionMessage = starter;
    } else {
      // No deferred public reply to fill (command typed in a thread, or a late call): post as the bot.
      const sent = (await client.rest
        .post(Routes.channelMessages(origin.channelId), { body, files })
        .catch((e: unknown) => {
          throw fromDiscordError(e, 'post the session message');
        })) as APIMessage;
      starter = { id: sent.id, channelId: sent.channel_id };
    }

    const thread = (await client.rest
      .post(Routes.threads(starter.channelId, starter.id), {
        body: { name: threadName(origin, message.text), auto_archive_duration: this.options.threadArchiveMinutes ?? ThreadAutoArchiveDuration.ThreeDays },
      })
      .catch((e: unknown) => {
        throw fromDiscordError(e, 'start the session thread');
      })) as APIThreadChannel;

    this.places.rememberThread(thread.id, starter.channelId, thread.guild_id);
    const ref: ThreadRef = { platform: 'discord', channelId: starter.channelId, threadId: thread.id };
    const prompt = origin.options['prompt'];
    if (typeof prompt === 'string') this.prompts.remember(thread.id, prompt);
    return { thread: ref, message: { thread: ref, messageId: starter.id } };
  }

  async post(thread: ThreadRef, message: OutgoingMessage, options: { key?: string } = {}): Promise<MessageRef> {
    const client = this.requireClient();
    const files = await readUploads(message.attachments, this.maxUploadBytesFor(thread), this.options.artifacts);
    // With a key, Discord's enforced nonce returns the message already created under it (for a few
    // minutes): a bot that died after posting and before recording the post does not post twice.
    const body = { ...messageBody(message, files), ...(options.key && { nonce: nonceOf(options.key), enforce_nonce: true }) };
    const sent = (await client.rest.post(Routes.channelMessages(thread.threadId), { body, files }).catch((e: unknown) => {
      throw fromDiscordError(e, 'post into the session thread');
    })) as APIMessage;
    const ref = { thread, messageId: sent.id };
    const takeRef = takeRefOfPost(message.text);
    if (takeRef) this.takeRefs.remember(thread.threadId, takeRef);
    // An earlier post came back: bring it to the latest content (a progress message moved on).
    if (options.key && sent.content !== body.content) await this.edit(ref, message);
    return ref;
  }

  async edit(ref: MessageRef, message: OutgoingMessage): Promise<void> {
    const client = this.requireClient();
    // A thread started from a message shares that message's id; the starter lives in the parent channel.
    const channelId = ref.messageId === ref.thread.threadId ? ref.thread.channelId : ref.thread.threadId;
    // Without an `attachments` field Discord keeps the message's files, as the seam promises.
    const { attachments: _ignored, ...body } = messageBody({ ...message, attachments: [] });
    await client.rest.patch(Routes.channelMessage(channelId, ref.messageId), { body }).catch((e: unknown) => {
      throw fromDiscordError(e, 'update the message');
    });
  }

  /**
   * Edits the message with an `attachments` field listing only the new files (none for a
   * removal): Discord keeps only the files that field lists, so every old file goes, while the
   * message keeps its place in the thread. A message already deleted (10008 Unknown Message) has
   * no files left, which is what a removal wants.
   */
  async replace(ref: MessageRef, message: OutgoingMessage): Promise<MessageRef> {
    const client = this.requireClient();
    const channelId = ref.messageId === ref.thread.threadId ? ref.thread.channelId : ref.thread.threadId;
    const files = await readUploads(message.attachments, this.maxUploadBytesFor(ref.thread), this.options.artifacts);
    const body = { attachments: [], ...messageBody(message, files) };
    await client.rest.patch(Routes.channelMessage(channelId, ref.messageId), { body, files }).catch((e: unknown) => {
      if (e instanceof DiscordAPIError && e.code === RESTJSONErrorCodes.UnknownMessage) return;
      throw fromDiscordError(e, "replace the message's files");
    });
    return ref;
  }

  /**
   * Edits the thread's starter message (in the parent channel, sharing the thread's id) to the
   * header, then asks for the new name, which ./thread-renames.ts sends when Discord's two renames
   * per ten minutes allow: this resolves without waiting for that.
   */
  async retitle(thread: ThreadRef, heading: ThreadHeading): Promise<void> {
    this.requireClient();
    if (heading.header !== undefined) await this.edit({ thread, messageId: thread.threadId }, { text: heading.header });
    const name = threadNameOf(heading.title);
    if (name) this.renames.want(thread.threadId, name);
  }

  private requireClient(): Client<true> {
    if (!this.client?.isReady()) throw new DailiesError('unavailable', 'The Discord adapter is not connected.', { retryable: true });
    return this.client;
  }

  private uploadLimit(channelId: string): number | undefined {
    return this.places.uploadLimit(channelId, this.client);
  }
}

/** A PATCH of a channel: only thread renames use it here, and those wait in ./thread-renames.ts rather than in discord.js. */
function isRename(data: RateLimitData): boolean {
  return data.route === '/channels/:id' && data.method.toUpperCase() === 'PATCH';
}

/** Discord nonces are at most 25 characters: a digest of the post key fits and never collides in practice. */
function nonceOf(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 25);
}
