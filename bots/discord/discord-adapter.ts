import {
  ApplicationCommandOptionType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  MessageType,
  PermissionFlagsBits,
  RESTJSONErrorCodes,
  Routes,
  ThreadAutoArchiveDuration,
  type APIMessage,
  type APIThreadChannel,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type GatewayDispatchPayload,
  type Interaction,
  type Message,
  type ModalSubmitInteraction,
  type RepliableInteraction,
} from 'discord.js';
import type {
  ActionEvent,
  ChatAdapter,
  ChatEvent,
  ChatEventHandler,
  ChatUser,
  CommandEvent,
  EventOutcome,
  IncomingAttachment,
  MessageRef,
  OutgoingMessage,
  ReplyEvent,
  ThreadRef,
} from '../../src/core/ports/chat-adapter.ts';
import { consoleLogger, type Logger } from '../../src/core/runtime.ts';
import { DailiesError, isDailiesError } from '../../src/errors.ts';
import { COMMAND_SPECS, type CommandSpec, type SuggestionKind } from './command-definitions.ts';
import { MISSING_TOKEN_MESSAGE, loadDiscordConfig, type DiscordConfig } from './config.ts';
import { fromDiscordError, fromGatewayClose, fromLoginError, isStaleInteraction } from './discord-errors.ts';
import { formModal, submittedValues } from './form-modal.ts';
import {
  WARNING,
  channelOf,
  commandOptions,
  defaultOpensForm,
  imageAttachments,
  noteFor,
  threadName,
  threadOf,
  threadOfComponent,
  userOf,
  type RawChannel,
} from './interaction-context.ts';
import { LIMITS, messageBody, readUploads, truncate } from './outgoing-message.ts';
import { RateLimitLog } from './rate-limit-log.ts';
import { RecentPrompts, defaultSuggestions, toChoices, type SuggestionProvider, type SuggestionQuery } from './suggestions.ts';

/** The core's Logger (so the app can pass its own), plus optional info lines. */
export type AdapterLogger = Logger & { info?(message: string, detail?: unknown): void };

/** Reported once an event has been acknowledged and the core's outcome delivered (metrics, tests). */
export interface SettledEvent {
  id: string;
  kind: ChatEvent['kind'] | 'autocomplete';
  /** Milliseconds from receiving the interaction to Discord accepting the first response. */
  ackMs?: number;
  /** How the interaction was first answered. */
  ack?: Ack;
  outcome?: EventOutcome;
}

export interface DiscordAdapterOptions {
  /** Settings; read from `env` (default process.env) in start() when absent, so bad settings reject start() instead of throwing here. */
  config?: DiscordConfig;
  env?: Record<string, string | undefined>;
  /** Decides how each command is acknowledged (public session message or ephemeral). */
  commands?: readonly CommandSpec[];
  /** Autocomplete source (the session's takes, saved prompts); falls back to prompts this adapter has seen. */
  suggest?: SuggestionProvider;
  /**
   * Buttons whose click the core answers with `openForm`. A modal must be the first response to
   * a click, so for these the handler runs before the acknowledgement, within `formDeadlineMs`.
   * Default: actions containing an "edit" word (e.g. `edit:abc`, `session.edit-prompt`).
   */
  opensForm?: (action: string) => boolean;
  formDeadlineMs?: number;
  suggestDeadlineMs?: number;
  maxImageBytes?: number;
  /** How long start() waits for the gateway to become ready. */
  readyTimeoutMs?: number;
  threadArchiveMinutes?: ThreadAutoArchiveDuration;
  logger?: AdapterLogger;
  onEventSettled?: (event: SettledEvent) => void;
}

/** How an interaction was first answered; `none` when another delivery of it already was (redelivery). */
type Ack = 'session' | 'ephemeral' | 'update' | 'modal' | 'autocomplete' | 'none';

interface Pending {
  interaction: RepliableInteraction;
  ack: Ack;
  /** Set once the deferred public reply has become the session message. */
  sessionMessage?: { id: string; channelId: string };
  /** When Discord accepted the first response (Date.now()). */
  ackedAt?: number;
}

const TIMED_OUT = Symbol('timed out');
const MAX_REMEMBERED = 10_000;

const defaultLogger: AdapterLogger = { ...consoleLogger, info: (m, detail) => console.info(`[dailies] ${m}`, detail ?? '') };

function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, ms, value).unref());
}

function remember<K, V>(map: Map<K, V> | Set<K>, key: K, value?: V): void {
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
 * Discord through discord.js v14. Every interaction is acknowledged before the core runs
 * (Discord allows 3 s); the session message is the deferred /video reply, and everything after
 * it goes to the thread with the bot token, since renders can outlive the 15-minute
 * interaction token.
 */
export class DiscordAdapter implements ChatAdapter {
  readonly platform = 'discord' as const;

  private client: Client | undefined;
  private handler: ChatEventHandler | undefined;
  private readonly log: AdapterLogger;
  private readonly specs: Map<string, CommandSpec>;
  private readonly pending = new Map<string, Pending>();
  /** Interaction payloads' channel objects: discord.js only keeps channels it has cached. */
  private readonly rawChannels = new Map<string, RawChannel>();
  private readonly ownThreads = new Set<string>();
  private readonly guildLimits = new Map<string, number>();
  private readonly channelLimits = new Map<string, number>();
  private readonly channelGuilds = new Map<string, string>();
  private readonly prompts = new RecentPrompts();
  private readonly rateLimitLog = new RateLimitLog();

  constructor(private readonly options: DiscordAdapterOptions = {}) {
    this.log = options.logger ?? defaultLogger;
    this.specs = new Map((options.commands ?? COMMAND_SPECS).map((s) => [s.name, s]));
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
      rest: config.apiUrl ? { api: config.apiUrl } : {},
      allowedMentions: { parse: [] },
    });
    this.client = client;
    this.handler = handler;
    this.wire(client);
    try {
      await this.connect(client, config.token, config.apiUrl ?? 'https://discord.com/api');
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
    await client?.destroy();
  }

  async startThread(origin: CommandEvent, message: OutgoingMessage): Promise<{ thread: ThreadRef; message: MessageRef }> {
    const client = this.requireClient();
    const files = await readUploads(message.attachments, this.uploadLimit(origin.channelId) ?? LIMITS.defaultAttachmentBytes);
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

    remember(this.ownThreads, thread.id);
    const guildId = thread.guild_id ?? this.channelGuilds.get(starter.channelId);
    if (guildId) remember(this.channelGuilds, thread.id, guildId);
    const ref: ThreadRef = { platform: 'discord', channelId: starter.channelId, threadId: thread.id };
    const prompt = origin.options['prompt'];
    if (typeof prompt === 'string') this.prompts.remember(thread.id, prompt);
    return { thread: ref, message: { thread: ref, messageId: starter.id } };
  }

  async post(thread: ThreadRef, message: OutgoingMessage): Promise<MessageRef> {
    const client = this.requireClient();
    const files = await readUploads(message.attachments, this.maxUploadBytesFor(thread));
    const sent = (await client.rest
      .post(Routes.channelMessages(thread.threadId), { body: messageBody(message, files), files })
      .catch((e: unknown) => {
        throw fromDiscordError(e, 'post into the session thread');
      })) as APIMessage;
    return { thread, messageId: sent.id };
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

  // ---- connection -------------------------------------------------------------------------

  private wire(client: Client): void {
    client.on(Events.Raw, (packet: GatewayDispatchPayload) => {
      if (packet.t === 'INTERACTION_CREATE' && packet.d.channel) {
        const c = packet.d.channel as { id: string; type: number; parent_id?: string | null; guild_id?: string };
        remember(this.rawChannels, packet.d.id, { id: c.id, type: c.type, parent_id: c.parent_id ?? null, guild_id: packet.d.guild_id });
      }
    });
    client.on(Events.InteractionCreate, (i) => void this.onInteraction(i));
    client.on(Events.MessageCreate, (m) => void this.onMessage(m));
    client.on(Events.ShardError, (error, shardId) => this.log.warn('discord: gateway error', { shardId, error: String(error) }));
    client.on(Events.ShardDisconnect, (event, shardId) => {
      if (this.client === client) this.log.error('discord: gateway closed for good; restart to reconnect', { shardId, code: event.code, reason: fromGatewayClose(event.code).message });
    });
    client.on(Events.Error, (error) => this.log.error('discord: client error', { error: String(error) }));
    client.on(Events.Warn, (message) => this.log.warn('discord: warning', { message }));
    client.rest.on('rateLimited', (info) => {
      const route = info.global ? '(global)' : info.route;
      const folded = this.rateLimitLog.admit(route);
      if (folded === null) return;
      this.log.warn('discord: rate limited; discord.js queues the requests and retries', {
        route,
        method: info.method,
        retryAfterMs: info.retryAfter,
        global: info.global,
        ...(folded > 0 ? { sinceLastWarning: folded } : {}),
      });
    });
  }

  private async connect(client: Client, token: string, apiUrl: string): Promise<void> {
    const readyTimeoutMs = this.options.readyTimeoutMs ?? 45_000;
    let onDisconnect: ((event: { code: number }) => void) | undefined;
    const closed = new Promise<never>((_, reject) => {
      onDisconnect = (event) => reject(fromGatewayClose(event.code));
      client.once(Events.ShardDisconnect, onDisconnect);
    });
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    const timeout = later(readyTimeoutMs, TIMED_OUT);
    try {
      const result = await Promise.race([
        client.login(token).then(
          () => ready,
          (e: unknown) => {
            throw fromLoginError(e, apiUrl);
          },
        ),
        closed,
        timeout,
      ]);
      if (result === TIMED_OUT) {
        throw new DailiesError('unavailable', `Discord's gateway did not become ready within ${Math.round(readyTimeoutMs / 1000)} s; check the network and DISCORD_API_URL.`, { retryable: true });
      }
    } finally {
      if (onDisconnect) client.off(Events.ShardDisconnect, onDisconnect);
      closed.catch(() => undefined);
    }
  }

  private requireClient(): Client<true> {
    if (!this.client?.isReady()) throw new DailiesError('unavailable', 'The Discord adapter is not connected.', { retryable: true });
    return this.client;
  }

  // ---- interactions -----------------------------------------------------------------------

  private async onInteraction(i: Interaction): Promise<void> {
    const receivedAt = Date.now();
    try {
      this.rememberPlace(i);
      if (i.isAutocomplete()) await this.onAutocomplete(i);
      else if (i.isChatInputCommand()) await this.onCommand(i, receivedAt);
      else if (i.isButton()) await this.onButton(i, receivedAt);
      else if (i.isModalSubmit()) await this.onModalSubmit(i, receivedAt);
      else this.log.warn('discord: ignoring an interaction this bot does not offer', { id: i.id, type: i.type });
    } catch (error) {
      if (isStaleInteraction(error)) this.log.warn('discord: interaction expired or was already answered; ignored', { id: i.id, error: String(error) });
      else this.log.error('discord: interaction failed', { id: i.id, error: String(error) });
    } finally {
      this.pending.delete(i.id);
      this.rawChannels.delete(i.id);
    }
  }

  private async onCommand(i: ChatInputCommandInteraction, receivedAt: number): Promise<void> {
    const place = channelOf(i, this.rawChannels.get(i.id));
    const thread = threadOf(place);
    let refusal: DailiesError | undefined;
    let parsed: { options: Record<string, unknown>; attachments: IncomingAttachment[] } = { options: {}, attachments: [] };
    try {
      parsed = commandOptions(i.options.data, this.options.maxImageBytes);
    } catch (error) {
      if (!isDailiesError(error)) throw error;
      refusal = error;
    }
    const spec = this.specs.get(i.commandName);
    // A thread cannot be started inside a thread, so /video typed in one answers privately and posts the session in the parent channel.
    const ack: Ack = spec?.reply === 'session' && !thread && !refusal ? 'session' : 'ephemeral';
    const pending: Pending = { interaction: i, ack };
    this.pending.set(i.id, pending);
    await this.acknowledge(pending, () => i.deferReply(ack === 'ephemeral' ? { flags: MessageFlags.Ephemeral } : {}));
    const ackMs = Date.now() - receivedAt;

    if (refusal) {
      const outcome: EventOutcome = { error: { code: refusal.code, message: refusal.message } };
      await this.answer(pending, outcome);
      this.settled({ id: i.id, kind: 'command', ackMs, ack: pending.ack, outcome });
      return;
    }
    const event: CommandEvent = {
      id: i.id,
      platform: 'discord',
      kind: 'command',
      user: userOf(i),
      receivedAt,
      channelId: thread ? thread.channelId : place.id,
      ...(thread && { thread }),
      name: i.commandName,
      options: parsed.options,
      ...(parsed.attachments.length && { attachments: parsed.attachments }),
    };
    this.rememberPrompts(event);
    const outcome = await this.callHandler(event);
    await this.answer(pending, outcome);
    this.settled({ id: i.id, kind: 'command', ackMs, ack: pending.ack, outcome });
  }

  private async onButton(i: ButtonInteraction, receivedAt: number): Promise<void> {
    const event: ActionEvent = {
      id: i.id,
      platform: 'discord',
      kind: 'action',
      user: userOf(i),
      receivedAt,
      thread: threadOfComponent(i.message.id, channelOf(i, this.rawChannels.get(i.id))),
      action: i.customId,
    };
    const pending: Pending = { interaction: i, ack: 'update' };
    this.pending.set(i.id, pending);

    let outcome: EventOutcome;
    if ((this.options.opensForm ?? defaultOpensForm)(i.customId)) {
      const answered = await this.answerWithForm(i, event, pending, receivedAt);
      if (answered === 'modal') return;
      outcome = answered;
    } else {
      await this.acknowledge(pending, () => i.deferUpdate());
      outcome = await this.callHandler(event);
      if (outcome.openForm && !outcome.error && !outcome.ephemeral) {
        this.log.warn('discord: the core asked for a form after the click was acknowledged; list the action in opensForm', { action: i.customId });
        outcome = { ...outcome, ephemeral: 'Use /refine to change the prompt.' };
      }
    }
    const ackMs = pending.ackedAt !== undefined ? pending.ackedAt - receivedAt : undefined;
    await this.answer(pending, outcome);
    this.settled({ id: i.id, kind: 'action', ...(ackMs !== undefined && { ackMs }), ack: pending.ack, outcome });
  }

  /**
   * A modal has to be the first response, so the core runs before the acknowledgement here, for
   * at most `formDeadlineMs`; past that the click is deferred like any other and the form is lost.
   */
  private async answerWithForm(i: ButtonInteraction, event: ActionEvent, pending: Pending, receivedAt: number): Promise<EventOutcome | 'modal'> {
    const running = this.callHandler(event);
    const early = await Promise.race([running, later(this.options.formDeadlineMs ?? 1500, TIMED_OUT)]);
    let formError: EventOutcome['error'];
    if (early !== TIMED_OUT && early.openForm && !early.error) {
      let modal: ReturnType<typeof formModal> | undefined;
      try {
        modal = formModal(early.openForm);
      } catch (error) {
        formError = { code: 'internal', message: (error as Error).message };
      }
      if (modal) {
        pending.ack = 'modal';
        await this.acknowledge(pending, () => i.showModal(modal));
        this.settled({ id: i.id, kind: 'action', ackMs: Date.now() - receivedAt, ack: pending.ack, outcome: early });
        return 'modal';
      }
    }
    await this.acknowledge(pending, () => i.deferUpdate());
    const outcome = early === TIMED_OUT ? await running : early;
    if (formError) return { ...outcome, error: formError };
    if (outcome.openForm && !outcome.error) return { ...outcome, ephemeral: 'The form took too long to open; use /refine to change the prompt.' };
    return outcome;
  }

  private async onModalSubmit(i: ModalSubmitInteraction, receivedAt: number): Promise<void> {
    const place = channelOf(i, this.rawChannels.get(i.id));
    const fromMessage = i.isFromMessage();
    const pending: Pending = { interaction: i, ack: fromMessage ? 'update' : 'ephemeral' };
    this.pending.set(i.id, pending);
    await this.acknowledge(pending, () => (fromMessage ? i.deferUpdate() : i.deferReply({ flags: MessageFlags.Ephemeral })));
    const ackMs = Date.now() - receivedAt;

    const event: ActionEvent = {
      id: i.id,
      platform: 'discord',
      kind: 'action',
      user: userOf(i),
      receivedAt,
      thread: fromMessage && i.message ? threadOfComponent(i.message.id, place) : (threadOf(place) ?? { platform: 'discord', channelId: place.id, threadId: place.id }),
      action: i.customId,
      values: submittedValues(i.components),
    };
    const outcome = await this.callHandler(event);
    await this.answer(pending, outcome);
    this.settled({ id: i.id, kind: 'action', ackMs, ack: pending.ack, outcome });
  }

  private async onAutocomplete(i: AutocompleteInteraction): Promise<void> {
    const focused = i.options.getFocused(true);
    const option = this.specs.get(i.commandName)?.options.find((o) => o.name === focused.name);
    const kind: SuggestionKind | undefined = option && 'suggest' in option ? option.suggest : undefined;
    const numeric = focused.type !== ApplicationCommandOptionType.String;
    let list: readonly { name: string; value: string | number }[] = [];
    if (kind) {
      const place = channelOf(i, this.rawChannels.get(i.id));
      const thread = threadOf(place);
      const query: SuggestionQuery = {
        kind,
        command: i.commandName,
        option: focused.name,
        typed: String(focused.value ?? ''),
        ...(option && 'max' in option && option.max !== undefined && { max: option.max }),
        user: userOf(i),
        channelId: thread ? thread.channelId : place.id,
        ...(thread && { thread }),
      };
      list = defaultSuggestions(query, this.prompts);
      if (this.options.suggest) {
        try {
          const provided = await Promise.race([Promise.resolve(this.options.suggest(query)), later(this.options.suggestDeadlineMs ?? 1500, TIMED_OUT)]);
          if (provided === TIMED_OUT) this.log.warn('discord: suggestions were too slow; answered from memory', { command: i.commandName });
          else list = provided;
        } catch (error) {
          this.log.warn('discord: suggestions failed; answered from memory', { error: String(error) });
        }
      }
    }
    await i.respond(toChoices(list, numeric));
    this.settled({ id: i.id, kind: 'autocomplete', ack: 'autocomplete' });
  }

  /**
   * Sends the first response. "Already acknowledged" means this is a redelivery of an interaction
   * another delivery answered: the core still sees it (it dedupes by id) but nothing is said.
   * An expired interaction (10062) throws on, to be logged and dropped.
   */
  private async acknowledge(pending: Pending, respond: () => Promise<unknown>): Promise<void> {
    try {
      await respond();
      pending.ackedAt = Date.now();
    } catch (error) {
      if (!(error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged)) throw error;
      this.log.info?.('discord: interaction delivered again; passing it on for the core to dedupe', { id: pending.interaction.id });
      pending.ack = 'none';
    }
  }

  /** Delivers the core's answer on the acknowledged interaction; only the acting user sees it. */
  private async answer(pending: Pending, outcome: EventOutcome): Promise<void> {
    const i = pending.interaction;
    const text = noteFor(outcome);
    const ephemeral = { flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
    try {
      switch (pending.ack) {
        case 'session': {
          if (pending.sessionMessage) {
            if (text) await i.followUp({ ...ephemeral, content: truncate(text, LIMITS.contentChars) });
            return;
          }
          // The public "thinking…" placeholder never became a session: remove it, answer privately.
          await i.deleteReply();
          const note = text || (outcome.thread ? `The session continues in <#${outcome.thread.threadId}>.` : '');
          if (note) await i.followUp({ ...ephemeral, content: truncate(note, LIMITS.contentChars) });
          return;
        }
        case 'ephemeral': {
          const here = i.channelId;
          const note = text || (outcome.thread && outcome.thread.threadId !== here ? `Session: <#${outcome.thread.threadId}>` : '');
          if (note) await i.editReply({ content: truncate(note, LIMITS.contentChars), allowedMentions: { parse: [] } });
          else await i.deleteReply();
          return;
        }
        case 'update':
          if (text) await i.followUp({ ...ephemeral, content: truncate(text, LIMITS.contentChars) });
          return;
        default:
          // After a modal or on a redelivery there is no response left to write into.
          if (text) this.log.warn('discord: an answer could not be shown', { id: i.id, ack: pending.ack, text });
      }
    } catch (error) {
      if (isStaleInteraction(error)) this.log.warn('discord: could not answer an expired interaction', { id: i.id });
      else this.log.error('discord: could not answer an interaction', { id: i.id, error: String(error) });
    }
  }

  // ---- thread replies ---------------------------------------------------------------------

  private async onMessage(message: Message): Promise<void> {
    const client = this.client;
    if (!client?.user || !this.handler) return;
    try {
      if (message.author.bot || message.webhookId || message.system) return;
      if (message.type !== MessageType.Default && message.type !== MessageType.Reply) return;
      const channel = message.channel;
      if (!channel.isThread() || !channel.parentId) return;
      const botId = client.user.id;
      if (!this.ownThreads.has(channel.id) && channel.ownerId !== botId) return;

      // Without MESSAGE_CONTENT the text is empty unless the bot is @mentioned: nothing to refine then.
      const text = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ').replace(/\s+/g, ' ').trim();
      const attachments = imageAttachments([...message.attachments.values()], this.options.maxImageBytes);
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
        kind: 'reply',
        user,
        receivedAt: Date.now(),
        thread: { platform: 'discord', channelId: channel.parentId, threadId: channel.id },
        text,
        ...(attachments.length && { attachments }),
      };
      if (text) this.prompts.remember(channel.id, text);
      const outcome = await this.callHandler(event);
      const note = noteFor(outcome);
      if (note) await this.tellPrivately(client, message, `${note}\n(about your message in <#${channel.id}>)`);
      this.settled({ id: message.id, kind: 'reply', outcome });
    } catch (error) {
      this.log.error('discord: thread reply failed', { id: message.id, error: String(error) });
    }
  }

  /**
   * A message has no ephemeral answer, and refusals must not land in the shared thread: the
   * author gets a DM. With DMs from server members turned off, a reaction on their message is
   * the only private-enough signal left.
   */
  private async tellPrivately(client: Client, message: Message, text: string): Promise<void> {
    try {
      const dm = (await client.rest.post(Routes.userChannels(), { body: { recipient_id: message.author.id } })) as { id: string };
      await client.rest.post(Routes.channelMessages(dm.id), { body: { content: truncate(text, LIMITS.contentChars), allowed_mentions: { parse: [] } } });
    } catch (error) {
      this.log.warn('discord: could not DM an answer to a thread reply; reacting instead', { id: message.id, error: String(error) });
      await client.rest
        .put(Routes.channelMessageOwnReaction(message.channelId, message.id, encodeURIComponent(WARNING)))
        .catch((e: unknown) => this.log.warn('discord: could not react either', { id: message.id, error: String(e) }));
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  private async callHandler(event: ChatEvent): Promise<EventOutcome> {
    const handler = this.handler;
    if (!handler) return { error: { code: 'unavailable', message: 'The bot is shutting down; try again in a minute.' } };
    try {
      return (await handler(event)) ?? {};
    } catch (error) {
      if (isDailiesError(error)) return { error: { code: error.code, message: error.message } };
      this.log.error('discord: the core failed on an event', { id: event.id, kind: event.kind, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      return { error: { code: 'internal', message: 'Something went wrong on our side; please try again in a moment.' } };
    }
  }

  private settled(event: SettledEvent): void {
    try {
      this.options.onEventSettled?.(event);
    } catch (error) {
      this.log.warn('discord: onEventSettled threw', { error: String(error) });
    }
  }

  private rememberPlace(i: Interaction): void {
    const place = channelOf(i, this.rawChannels.get(i.id));
    if (!i.guildId || !place.id) return;
    remember(this.channelGuilds, place.id, i.guildId);
    if (place.parentId) remember(this.channelGuilds, place.parentId, i.guildId);
    const limit = i.attachmentSizeLimit;
    if (typeof limit === 'number' && limit > 0) {
      remember(this.guildLimits, i.guildId, limit);
      remember(this.channelLimits, place.id, limit);
    }
  }

  private uploadLimit(channelId: string): number | undefined {
    const direct = this.channelLimits.get(channelId);
    if (direct) return direct;
    const cached = this.client?.channels.cache.get(channelId);
    const guildId = this.channelGuilds.get(channelId) ?? (cached && 'guildId' in cached ? cached.guildId : undefined);
    return guildId ? this.guildLimits.get(guildId) : undefined;
  }

  private rememberPrompts(event: CommandEvent): void {
    for (const key of ['prompt', 'text']) {
      const value = event.options[key];
      if (typeof value !== 'string') continue;
      this.prompts.remember(event.channelId, value);
      if (event.thread) this.prompts.remember(event.thread.threadId, value);
    }
  }
}
