import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { App, HTTPReceiver, LogLevel, webApi, type RespondFn } from '@slack/bolt';
import type {
  ActionEvent,
  ChatAdapter,
  ChatEvent,
  ChatEventHandler,
  CommandEvent,
  EventOutcome,
  IncomingAttachment,
  MessageRef,
  OutgoingAttachment,
  OutgoingMessage,
  ThreadRef,
} from '../../src/core/ports/chat-adapter.ts';
import { DailiesError, isDailiesError } from '../../src/errors.ts';
import { redactUrl } from '../../src/redact-url.ts';
import type { AttachmentRules } from '../../src/safety/attachment-check.ts';
import { commands as coreCommands } from '../../commands/index.ts';
import { DISABLED_VALUE_PREFIX, FORM_CALLBACK_ID, formView, messageBody, submittedForm } from './block-kit.ts';
import { boltLogger, type SlackAdapterLogger } from './bolt-logger.ts';
import { registrySyntax, type CommandSyntax } from './command-syntax.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, REJECTED_APP_TOKEN_MESSAGE, SLACK_MAX_UPLOAD_BYTES, WEB_API_RETRY, WEB_API_TIMEOUT_MS, loadSlackConfig, slackEnvSchema, type SlackConfig } from './config.ts';
import { EditQueue } from './edit-queue.ts';
import { parseCommandText } from './parse-command-text.ts';
import { readMention } from './read-mention.ts';
import { RecentIds } from './recent-ids.ts';
import { refuseOutsideWindow } from './request-window.ts';
import { fromSlackError, slackErrorName } from './slack-errors.ts';
import { slackFileAttachment, type SlackFileLike } from './slack-files.ts';
import { mentionPattern, slackToPlain } from './slack-text.ts';
import { UserDirectory, type SlackUserInfo } from './user-directory.ts';

export interface SlackAdapterOptions {
  /** Where SLACK_* are read from at start() (default process.env). */
  env?: Record<string, string | undefined>;
  /** Settings already validated elsewhere; wins over `env`. */
  config?: SlackConfig;
  /** Command names and option types for parsing slash-command text (default: the core's command registry). */
  commands?: readonly CommandSyntax[];
  /** Largest clip this adapter uploads; default SLACK_MAX_UPLOAD_MB or 50 MiB, at most Slack's 1 GiB. */
  maxUploadBytes?: number;
  /** What a shared image must be (default: the core's Slack rules, files.slack.com, 10 MiB). */
  attachmentRules?: AttachmentRules;
  /** Spacing of edits to one message (chat.update is Tier 3); default 1000 ms. */
  minEditIntervalMs?: number;
  /** How long users.info answers are trusted (default 10 min). */
  userCacheTtlMs?: number;
  logger?: SlackAdapterLogger;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/** Where an event came from, for answering it: the trigger opens modals, respond() reaches users the bot cannot post to. */
interface ReplyContext {
  triggerId?: string;
  respond?: RespondFn;
}

/** The fields of message and app_mention events this adapter reads. */
interface MessageLike {
  type: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  parent_user_id?: string;
  channel: string;
  files?: SlackFileLike[];
}

const LOG_LEVELS: Record<NonNullable<SlackAdapterOptions['logLevel']>, LogLevel> = {
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
};

/** Message subtypes that are people writing; edits, deletions, joins and bot posts are not. */
const PERSON_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

const SOMETHING_WENT_WRONG = 'Something went wrong on our side; try again in a minute.';

/**
 * Slack, through Bolt. Commands, clicks and form submissions are acknowledged before anything
 * slow happens (Slack gives 3 s, then retries); the core's handler runs afterwards and its answer
 * becomes an ephemeral note or a modal. A session is a thread on the message the bot posts for
 * it, so `ThreadRef.threadId` is that message's `ts`.
 */
export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack' as const;
  readonly maxUploadBytes: number;

  private readonly options: SlackAdapterOptions;
  private readonly logger: SlackAdapterLogger;
  private readonly syntax: Map<string, CommandSyntax>;
  private readonly recent = new RecentIds();
  private readonly knownThreads = new RecentIds(7 * 24 * 60 * 60 * 1000, 20_000);
  private readonly threadRoots = new Map<string, Promise<boolean>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly edits: EditQueue;
  private users?: UserDirectory;
  private app?: App;
  private server?: Server;
  private handler?: ChatEventHandler;
  private config?: SlackConfig;
  private botUserId = '';
  private botId = '';
  private stopping = false;

  constructor(options: SlackAdapterOptions = {}) {
    this.options = options;
    this.logger = options.logger ?? console;
    this.syntax = new Map((options.commands ?? registrySyntax(coreCommands)).map((c) => [c.name, c]));
    this.edits = new EditQueue(options.minEditIntervalMs ?? 1000);
    // Read before start() so the core can size clips early; a bad value is reported by start().
    const fromEnv = slackEnvSchema.shape.SLACK_MAX_UPLOAD_MB.safeParse((options.env ?? process.env).SLACK_MAX_UPLOAD_MB);
    const configured = options.maxUploadBytes ?? options.config?.maxUploadBytes ?? (fromEnv.success && fromEnv.data !== undefined ? Math.floor(fromEnv.data * 1024 * 1024) : DEFAULT_MAX_UPLOAD_BYTES);
    this.maxUploadBytes = Math.min(configured, SLACK_MAX_UPLOAD_BYTES);
  }

  /** The HTTP receiver's address once started (undefined in Socket Mode). */
  get address(): { host: string; port: number } | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  maxUploadBytesFor(_thread: ThreadRef): number {
    return this.maxUploadBytes;
  }

  async start(handler: ChatEventHandler): Promise<void> {
    if (this.app) throw new DailiesError('conflict', 'The Slack adapter is already running; stop it before starting it again.');
    // Config problems reject here (not in the constructor), so the caller can log them and go on without Slack.
    const config = this.options.config ?? loadSlackConfig(this.options.env ?? process.env);
    const level = LOG_LEVELS[this.options.logLevel ?? 'info'];
    const logger = boltLogger(this.logger, level, () => [config.botToken, config.signingSecret ?? '', config.appToken ?? '']);
    const clientOptions: webApi.WebClientOptions = {
      ...(config.apiUrl && { slackApiUrl: config.apiUrl }),
      retryConfig: { ...WEB_API_RETRY },
      timeout: WEB_API_TIMEOUT_MS,
      logger,
    };

    // Checking the token first turns a bad one into one clear sentence instead of a failure per event.
    try {
      const auth = await new webApi.WebClient(config.botToken, clientOptions).auth.test();
      this.botUserId = auth.user_id ?? '';
      this.botId = auth.bot_id ?? '';
    } catch (error) {
      throw fromSlackError(error, `reach Slack at ${redactUrl(config.apiUrl ?? 'https://slack.com/api/')}`);
    }

    let app: App;
    try {
      app = new App({
        token: config.botToken,
        botId: this.botId || undefined,
        botUserId: this.botUserId || undefined,
        tokenVerificationEnabled: false,
        ...(config.appToken ? { socketMode: true, appToken: config.appToken } : { receiver: this.httpReceiver(config, logger, level) }),
        convoStore: false,
        ignoreSelf: true,
        clientOptions,
        logger,
        logLevel: level,
      });
    } catch (error) {
      throw new DailiesError('internal', `Could not set up the Slack app: ${error instanceof Error ? error.message : String(error)}.`, { cause: error });
    }
    this.users = new UserDirectory(
      async (id) => (await app.client.users.info({ user: id })).user as SlackUserInfo | undefined,
      this.options.userCacheTtlMs,
      (id, error) => this.logger.warn(`slack: users.info failed for ${id}: ${fromSlackError(error, 'look up the user').message}`),
    );
    this.handler = handler;
    this.config = config;
    this.listen(app);
    // Set before connecting: in Socket Mode the first envelope can arrive in the same read as "hello".
    this.app = app;
    try {
      if (config.appToken) {
        await app.start();
      } else {
        this.server = await app.start(config.host ? { port: config.port, host: config.host } : config.port);
      }
    } catch (error) {
      this.app = undefined;
      this.handler = undefined;
      this.config = undefined;
      // A half-open Socket Mode client keeps reconnect timers alive; close whatever did start.
      await app.stop().catch(() => {});
      if (config.appToken && ['invalid_auth', 'not_authed', 'account_inactive'].includes(slackErrorName(error) ?? '')) {
        throw new DailiesError('forbidden', REJECTED_APP_TOKEN_MESSAGE, { cause: error });
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new DailiesError(
        'unavailable',
        config.appToken
          ? `Could not open the Socket Mode connection to Slack: ${message}; check SLACK_APP_TOKEN has the connections:write scope.`
          : `Could not listen for Slack on port ${config.port}: ${message}; set SLACK_PORT to a free port.`,
        { retryable: true, cause: error },
      );
    }
    this.logger.info(
      config.appToken
        ? 'slack: connected in Socket Mode'
        : `slack: listening for Slack requests on ${this.address ? `port ${this.address.port}` : `port ${config.port}`} at /slack/events`,
    );
  }

  /**
   * Bolt's own HTTP receiver, with Slack's timestamp window enforced in front of it: Bolt checks the
   * signature but lets future-dated timestamps through (see ./request-window.ts).
   */
  private httpReceiver(config: SlackConfig, logger: ReturnType<typeof boltLogger>, level: LogLevel): HTTPReceiver {
    const receiver = new HTTPReceiver({
      signingSecret: config.signingSecret ?? '',
      endpoints: '/slack/events',
      port: config.port,
      processBeforeResponse: false,
      logger,
      logLevel: level,
    });
    receiver.requestListener = refuseOutsideWindow(receiver.requestListener, (line) => logger.warn(line));
    return receiver;
  }

  async stop(): Promise<void> {
    const app = this.app;
    if (!app || this.stopping) return;
    this.stopping = true;
    try {
      await app.stop();
    } catch (error) {
      this.logger.warn(`slack: stopping the receiver failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Let handlers already running post their answers, but do not hang shutdown on them.
    const drained = Promise.allSettled([...this.inFlight]);
    await Promise.race([drained, new Promise((r) => setTimeout(r, 10_000).unref())]);
    this.app = undefined;
    this.server = undefined;
    this.handler = undefined;
    this.stopping = false;
  }

  /**
   * Request headers for downloading the files people share (Slack's file URLs need the bot
   * token); give them to the core's image intake for platform "slack". Undefined before start().
   */
  attachmentHeaders(): Record<string, string> | undefined {
    return this.config ? { Authorization: `Bearer ${this.config.botToken}` } : undefined;
  }

  /** Resolves once every event taken so far has been handled and answered (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async startThread(origin: CommandEvent, message: OutgoingMessage): Promise<{ thread: ThreadRef; message: MessageRef }> {
    const client = this.client();
    await this.checkAttachments(message.attachments);
    const body = messageBody(message, attachmentNames(message.attachments));
    let res;
    try {
      res = await client.chat.postMessage({ channel: origin.channelId, ...body, unfurl_links: false, unfurl_media: false });
    } catch (error) {
      throw fromSlackError(error, 'post the session message');
    }
    const thread: ThreadRef = { platform: 'slack', channelId: res.channel ?? origin.channelId, threadId: res.ts! };
    this.knownThreads.claim(threadKey(thread.channelId, thread.threadId));
    if (message.attachments?.length) await this.upload(thread, message.attachments);
    return { thread, message: { thread, messageId: res.ts! } };
  }

  async post(thread: ThreadRef, message: OutgoingMessage): Promise<MessageRef> {
    const client = this.client();
    await this.checkAttachments(message.attachments);
    await this.ensureThread(thread);
    // Files first, so a take's vote buttons sit under its clip.
    if (message.attachments?.length) await this.upload(thread, message.attachments);
    try {
      const res = await client.chat.postMessage({
        channel: thread.channelId,
        thread_ts: thread.threadId,
        ...messageBody(message, attachmentNames(message.attachments)),
        unfurl_links: false,
        unfurl_media: false,
      });
      return { thread, messageId: res.ts! };
    } catch (error) {
      throw fromSlackError(error, 'post in the session thread');
    }
  }

  async edit(ref: MessageRef, message: OutgoingMessage): Promise<void> {
    const client = this.client();
    const body = messageBody(message);
    await this.edits.submit(threadKey(ref.thread.channelId, ref.messageId), async () => {
      try {
        await client.chat.update({ channel: ref.thread.channelId, ts: ref.messageId, ...body });
      } catch (error) {
        throw fromSlackError(error, 'update the message');
      }
    });
  }

  // ---- incoming ----

  private listen(app: App): void {
    app.error(async (error) => {
      this.logger.error(`slack: ${error.code ?? 'error'}: ${error.message}`);
    });

    app.command(/.*/, async ({ command, ack, respond, context }) => {
      const receivedAt = Date.now();
      const name = command.command.replace(/^\//, '').toLowerCase();
      const syntax = this.syntax.get(name);
      if (!syntax) {
        await ack({ response_type: 'ephemeral', text: warning(`This app has no /${name} command; try /help.`) });
        return;
      }
      let parsed;
      try {
        parsed = parseCommandText(syntax, slackToPlain(command.text ?? ''));
      } catch (error) {
        await ack({ response_type: 'ephemeral', text: warning(userMessage(error)) });
        return;
      }
      if (parsed.kind === 'help') {
        await ack({ response_type: 'ephemeral', text: parsed.text });
        return;
      }
      await ack();
      if (this.isRetryOfSeen(`command:${command.trigger_id}`, context.retryNum)) return;
      const options = parsed.options;
      this.track(async () => {
        const user = await this.user(command.user_id, command.user_name);
        const event: CommandEvent = {
          kind: 'command',
          id: command.trigger_id,
          platform: 'slack',
          user,
          receivedAt,
          channelId: command.channel_id,
          name,
          options,
        };
        await this.dispatch(event, { triggerId: command.trigger_id, respond });
      });
    });

    app.action(/.*/, async ({ ack, body, action, respond, context }) => {
      const receivedAt = Date.now();
      await ack();
      if (body.type !== 'block_actions' || !('action_id' in action)) return;
      const message = body.message as { ts?: string; thread_ts?: string } | undefined;
      const channelId = body.channel?.id ?? (body.container as { channel_id?: string } | undefined)?.channel_id;
      if (!message?.ts || !channelId) return;
      if (this.isRetryOfSeen(`action:${body.trigger_id}:${action.action_id}`, context.retryNum)) return;
      const disabled = 'value' in action && typeof action.value === 'string' && action.value.startsWith(DISABLED_VALUE_PREFIX);
      this.track(async () => {
        if (disabled) {
          await this.ephemeral(channelId, body.user.id, 'That button is closed.', message.thread_ts ?? message.ts, respond);
          return;
        }
        const user = await this.user(body.user.id, body.user.username ?? body.user.name);
        const event: ActionEvent = {
          kind: 'action',
          id: body.trigger_id,
          platform: 'slack',
          user,
          receivedAt,
          thread: { platform: 'slack', channelId, threadId: message.thread_ts ?? message.ts! },
          action: action.action_id,
        };
        await this.dispatch(event, { triggerId: body.trigger_id, respond });
      });
    });

    app.view(FORM_CALLBACK_ID, async ({ ack, body, view, context }) => {
      const receivedAt = Date.now();
      // Acknowledging closes the modal; a refusal then arrives as an ephemeral note in the thread.
      await ack();
      const form = submittedForm(view);
      if (!form) return;
      const id = (body as { trigger_id?: string }).trigger_id ?? `${view.id}:${view.hash}`;
      if (this.isRetryOfSeen(`view:${id}`, context.retryNum)) return;
      this.track(async () => {
        const user = await this.user(body.user.id, body.user.name);
        const event: ActionEvent = { kind: 'action', id, platform: 'slack', user, receivedAt, thread: form.thread, action: form.action, values: form.values };
        await this.dispatch(event, {});
      });
    });

    app.event('message', async ({ event, body, context }) => {
      this.onMessage(event as unknown as MessageLike, (body as { event_id: string }).event_id, false, context.retryNum);
    });
    app.event('app_mention', async ({ event, body, context }) => {
      this.onMessage(event as unknown as MessageLike, (body as { event_id: string }).event_id, true, context.retryNum);
    });
  }

  /**
   * True for a delivery Slack marks as a retry (retry_num >= 1) of one this process already took.
   * An unmarked repeat goes through with the same id: the core dedupes by id (claimEvent), and
   * only Slack's own retries are known to be copies.
   */
  private isRetryOfSeen(key: string, retryNum: number | undefined): boolean {
    const claim = this.recent.claim(key);
    return claim !== 'new' && retryNum !== undefined && retryNum >= 1;
  }

  /**
   * Thread replies and mentions. Slack delivers a mention twice (message and app_mention, with
   * different event ids) and retries unanswered events, so both the event id and the message
   * are claimed once. Everything else said in the channel is none of the bot's business.
   */
  private onMessage(ev: MessageLike, eventId: string, isMention: boolean, retryNum: number | undefined): void {
    const receivedAt = Date.now();
    if (!PERSON_SUBTYPES.has(ev.subtype) || ev.bot_id || !ev.user || ev.user === this.botUserId) return;
    const mentioned = isMention || (this.botUserId !== '' && mentionPattern(this.botUserId).test(ev.text ?? ''));
    const inThread = ev.thread_ts !== undefined && ev.thread_ts !== ev.ts;
    const known = inThread && (this.knownThreads.has(threadKey(ev.channel, ev.thread_ts!)) || ev.parent_user_id === this.botUserId);
    if (!mentioned && !known) return;
    if (this.isRetryOfSeen(`event:${eventId}`, retryNum)) return;
    // The twin of a mention (the other of message/app_mention) names the same message under another event id.
    if (this.recent.claim(`message:${ev.channel}:${ev.ts}`, eventId) === 'other') return;
    const userId = ev.user;
    this.track(async () => {
      // A mention in a thread whose root we cannot place (no parent_user_id) needs a look at the root.
      const sessionThread = known || (inThread && ev.parent_user_id === undefined && (await this.isBotThread(ev.channel, ev.thread_ts!)));
      const thread: ThreadRef | undefined = sessionThread ? { platform: 'slack', channelId: ev.channel, threadId: ev.thread_ts! } : undefined;
      const user = await this.user(userId);
      const base = { id: eventId, platform: 'slack' as const, user, receivedAt };
      const answer = (text: string) => this.ephemeral(ev.channel, userId, text, thread?.threadId);
      const refuse = (error: unknown) => answer(warning(userMessage(error)));

      const text = slackToPlain(this.botUserId ? (ev.text ?? '').replace(mentionPattern(this.botUserId), ' ') : (ev.text ?? ''))
        .replace(/[ \t]+/g, ' ')
        .trim();
      let attachments: IncomingAttachment[] | undefined;
      try {
        attachments = ev.files?.length ? ev.files.map((f) => slackFileAttachment(f, this.options.attachmentRules)) : undefined;
      } catch (error) {
        await refuse(error);
        return;
      }

      let event: ChatEvent;
      if (mentioned) {
        let reading;
        try {
          reading = readMention(text, this.syntax, thread !== undefined, attachments !== undefined);
        } catch (error) {
          await refuse(error);
          return;
        }
        switch (reading.kind) {
          case 'nothing':
            return;
          case 'help':
            await answer(reading.text);
            return;
          case 'needs-prompt':
            await answer('Mention me with a prompt, like "@dailies a paper boat in the rain", or use /video.');
            return;
          case 'reply':
            event = { ...base, kind: 'reply', thread: thread!, text: reading.text, ...(attachments && { attachments }) };
            break;
          case 'command':
            event = { ...base, kind: 'command', channelId: ev.channel, ...(thread && { thread }), name: reading.name, options: reading.options, ...(attachments && { attachments }) };
            break;
        }
      } else {
        if (text === '' && !attachments) return;
        event = { ...base, kind: 'reply', thread: thread!, text, ...(attachments && { attachments }) };
      }
      await this.dispatch(event, {});
    });
  }

  /**
   * Slack accepts a reply to a thread_ts that names no message and then shows it nowhere, so a
   * thread this process did not open is looked up once before posting into it.
   */
  private async ensureThread(thread: ThreadRef): Promise<void> {
    const key = threadKey(thread.channelId, thread.threadId);
    if (this.knownThreads.has(key)) return;
    let root: { ts?: string } | undefined;
    try {
      root = (await this.client().conversations.replies({ channel: thread.channelId, ts: thread.threadId, limit: 1 })).messages?.[0];
    } catch (error) {
      throw fromSlackError(error, 'find the session thread');
    }
    if (root?.ts !== thread.threadId) throw new DailiesError('not_found', 'Could not find the session thread: it no longer exists on Slack.');
    this.knownThreads.claim(key);
  }

  private async isBotThread(channel: string, threadTs: string): Promise<boolean> {
    const key = threadKey(channel, threadTs);
    let p = this.threadRoots.get(key);
    if (!p) {
      p = this.client()
        .conversations.replies({ channel, ts: threadTs, limit: 1 })
        .then((r) => {
          const root = r.messages?.[0] as { user?: string; bot_id?: string } | undefined;
          return Boolean(root && ((this.botUserId && root.user === this.botUserId) || (this.botId && root.bot_id === this.botId)));
        })
        .catch((error) => {
          this.logger.warn(`slack: could not read the thread root: ${fromSlackError(error, 'read the thread').message}`);
          this.threadRoots.delete(key);
          return false;
        });
      this.threadRoots.set(key, p);
      if (this.threadRoots.size > 2_000) this.threadRoots.delete(this.threadRoots.keys().next().value!);
    }
    if (await p) this.knownThreads.claim(key);
    return p;
  }

  // ---- answering ----

  private async dispatch(event: ChatEvent, ctx: ReplyContext): Promise<void> {
    const handler = this.handler;
    if (!handler) return;
    let outcome: EventOutcome;
    try {
      outcome = await handler(event);
    } catch (error) {
      if (!isDailiesError(error)) this.logger.error(`slack: handling ${event.kind} ${event.id} failed`, error);
      outcome = { error: { code: isDailiesError(error) ? error.code : 'internal', message: userMessage(error) } };
    }
    if (outcome.thread) this.knownThreads.claim(threadKey(outcome.thread.channelId, outcome.thread.threadId));
    const channel = event.kind === 'command' ? event.channelId : event.thread.channelId;
    // A command's note belongs where it was typed; a click's or reply's in its thread.
    const threadTs = event.kind === 'command' ? event.thread?.threadId : event.thread.threadId;
    const notes: string[] = [];
    if (outcome.error) notes.push(warning(outcome.error.message));
    if (outcome.ephemeral && outcome.ephemeral !== outcome.error?.message) notes.push(outcome.ephemeral);
    if (outcome.openForm) {
      const thread = outcome.thread ?? event.thread;
      if (!ctx.triggerId || !thread) {
        notes.push('That form opens from a button; click the button in the session thread.');
      } else {
        try {
          await this.client().views.open({ trigger_id: ctx.triggerId, view: formView(outcome.openForm, thread) });
        } catch (error) {
          notes.push(warning(fromSlackError(error, 'open the form').message));
        }
      }
    }
    if (notes.length > 0) await this.ephemeral(channel, event.user.id, notes.join('\n'), threadTs, ctx.respond);
  }

  private async ephemeral(channel: string, user: string, text: string, threadTs?: string, respond?: RespondFn): Promise<void> {
    try {
      await this.client().chat.postEphemeral({ channel, user, text, ...(threadTs && { thread_ts: threadTs }) });
    } catch (error) {
      // The bot may not be in the channel; a command's response_url still reaches the person.
      if (respond) {
        try {
          await respond({ response_type: 'ephemeral', text });
          return;
        } catch {
          // fall through to the log line below
        }
      }
      this.logger.warn(`slack: could not tell ${user} "${text.slice(0, 80)}": ${fromSlackError(error, 'post an ephemeral note').message}`);
    }
  }

  private async user(id: string, fallbackName?: string) {
    return this.users ? this.users.get(id, fallbackName) : { id, name: fallbackName ?? id, canModerate: false };
  }

  private track(work: () => Promise<void>): void {
    const p: Promise<void> = work()
      .catch((error) => this.logger.error('slack: processing an event failed', error))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  // ---- outgoing helpers ----

  private client(): App['client'] {
    if (!this.app) throw new DailiesError('unavailable', 'The Slack adapter is not running; start it first.', { retryable: true });
    return this.app.client;
  }

  private async checkAttachments(attachments: readonly OutgoingAttachment[] | undefined): Promise<void> {
    for (const a of attachments ?? []) {
      let size: number;
      try {
        size = (await stat(a.path)).size;
      } catch (error) {
        throw new DailiesError('not_found', `The clip "${a.filename}" to upload is missing on disk.`, { cause: error });
      }
      if (size > this.maxUploadBytes) {
        const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
        throw new DailiesError('bad_input', `"${a.filename}" is ${mib(size)}; this Slack app uploads at most ${mib(this.maxUploadBytes)}.`);
      }
    }
  }

  private async upload(thread: ThreadRef, attachments: readonly OutgoingAttachment[]): Promise<void> {
    const files = await Promise.all(attachments.map(async (a) => ({ file: await readFile(a.path), filename: a.filename, title: a.filename })));
    try {
      // filesUploadV2: files.getUploadURLExternal, the upload, then files.completeUploadExternal into the thread.
      await this.client().filesUploadV2({ channel_id: thread.channelId, thread_ts: thread.threadId, file_uploads: files });
    } catch (error) {
      throw fromSlackError(error, 'upload the clip');
    }
  }
}

function threadKey(channel: string, ts: string): string {
  return `${channel}:${ts}`;
}

function attachmentNames(attachments: readonly OutgoingAttachment[] | undefined): string {
  return (attachments ?? []).map((a) => a.filename).join(', ');
}

/** Errors are ephemeral too on Slack; the sign tells them from plain notes at a glance. */
export const WARNING_PREFIX = ':warning: ';

function warning(text: string): string {
  return `${WARNING_PREFIX}${text}`;
}

function userMessage(error: unknown): string {
  return isDailiesError(error) ? error.message : SOMETHING_WENT_WRONG;
}
