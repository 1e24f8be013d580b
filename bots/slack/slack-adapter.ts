import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '@slack/bolt';
import type { ChatAdapter, ChatEventHandler, CommandEvent, MessageRef, OutgoingMessage, ThreadHeading, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { callCore } from '../../src/core/call-core.ts';
import { DailiesError } from '../../src/errors.ts';
import { commands as coreCommands } from '../../commands/index.ts';
import { messageBody } from './block-kit.ts';
import type { SlackAdapterLogger } from './bolt-logger.ts';
import { processLogger } from '../../src/logging/logger.ts';
import { registrySyntax, type CommandSyntax } from './command-syntax.ts';
import { slackWording } from './command-wording.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, SLACK_MAX_UPLOAD_BYTES, loadSlackConfig, slackEnvSchema, type SlackConfig } from './config.ts';
import { EditQueue } from './edit-queue.ts';
import { listen } from './listeners.ts';
import { RecentIds } from './recent-ids.ts';
import { buildSlackApp, startSlackApp } from './slack-app.ts';
import { fromSlackError, slackErrorName } from './slack-errors.ts';
import { threadKey, type SlackAdapterOptions, type SlackRuntime } from './slack-runtime.ts';
import { ThreadMessages } from './thread-messages.ts';
import { attachmentNames, checkAttachments, deleteFiles, upload } from './uploads.ts';
import { UserDirectory, type SlackUserInfo } from './user-directory.ts';

export { WARNING_PREFIX } from './answers.ts';
export type { SlackAdapterOptions } from './slack-runtime.ts';

/**
 * Slack, through Bolt. Commands, clicks and form submissions are acknowledged before anything
 * slow happens (Slack gives 3 s, then retries); the core's handler runs afterwards and its answer
 * becomes an ephemeral note or a modal. A session is a thread on the message the bot posts for
 * it, so `ThreadRef.threadId` is that message's `ts`.
 *
 * This class holds the app's lifecycle and the outgoing side (the ChatAdapter calls); the app is
 * built in ./slack-app.ts, events are taken in ./listeners.ts and ./thread-messages.ts and
 * answered in ./answers.ts, clips uploaded in ./uploads.ts.
 */
export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack' as const;
  readonly maxUploadBytes: number;

  private readonly options: SlackAdapterOptions;
  private readonly logger: SlackAdapterLogger;
  private readonly knownThreads = new RecentIds(7 * 24 * 60 * 60 * 1000, 20_000);
  private readonly inFlight = new Set<Promise<void>>();
  private readonly edits: EditQueue;
  private readonly rt: SlackRuntime;
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
    const logger = options.logger ?? processLogger().child({ platform: 'slack' });
    this.logger = logger;
    this.edits = new EditQueue(options.minEditIntervalMs ?? 1000);
    // Read before start() so the core can size clips early; a bad value is reported by start().
    const fromEnv = slackEnvSchema.shape.SLACK_MAX_UPLOAD_MB.safeParse((options.env ?? process.env).SLACK_MAX_UPLOAD_MB);
    const configured = options.maxUploadBytes ?? options.config?.maxUploadBytes ?? (fromEnv.success && fromEnv.data !== undefined ? Math.floor(fromEnv.data * 1024 * 1024) : DEFAULT_MAX_UPLOAD_BYTES);
    this.maxUploadBytes = Math.min(configured, SLACK_MAX_UPLOAD_BYTES);
    const syntax = new Map<string, CommandSyntax>((options.commands ?? registrySyntax(coreCommands)).map((c) => [c.name, c]));
    this.rt = {
      options,
      logger,
      syntax,
      wording: slackWording(syntax.keys()),
      recent: new RecentIds(),
      knownThreads: this.knownThreads,
      botUserId: () => this.botUserId,
      botId: () => this.botId,
      client: () => this.client(),
      running: () => this.handler !== undefined,
      callCore: (event) => callCore(this.handler, event, logger),
      user: async (id, fallbackName) => (this.users ? this.users.get(id, fallbackName) : { id, name: fallbackName ?? id, canModerate: false }),
      track: (work) => {
        const p: Promise<void> = work()
          .catch((error) => logger.error('slack: processing an event failed', error))
          .finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      },
    };
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
    const { app, botUserId, botId } = await buildSlackApp(config, { logger: this.logger, ...(this.options.logLevel && { logLevel: this.options.logLevel }) });
    this.botUserId = botUserId;
    this.botId = botId;
    this.users = new UserDirectory(
      async (id) => (await app.client.users.info({ user: id })).user as SlackUserInfo | undefined,
      this.options.userCacheTtlMs,
      (id, error) => this.logger.warn(`slack: users.info failed for ${id}: ${fromSlackError(error, 'look up the user').message}`),
    );
    this.handler = handler;
    this.config = config;
    listen(app, this.rt, new ThreadMessages(this.rt));
    // Set before connecting: in Socket Mode the first envelope can arrive in the same read as "hello".
    this.app = app;
    try {
      this.server = await startSlackApp(app, config);
    } catch (error) {
      this.app = undefined;
      this.handler = undefined;
      this.config = undefined;
      throw error;
    }
    this.logger.info(
      config.appToken
        ? 'slack: connected in Socket Mode'
        : `slack: listening for Slack requests on ${this.address ? `port ${this.address.port}` : `port ${config.port}`} at /slack/events`,
    );
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
    await checkAttachments(message.attachments, this.maxUploadBytes, this.options.artifacts);
    const body = this.body(message, attachmentNames(message.attachments));
    let res;
    try {
      res = await client.chat.postMessage({ channel: origin.channelId, ...body, unfurl_links: false, unfurl_media: false });
    } catch (error) {
      throw fromSlackError(error, 'post the session message');
    }
    const thread: ThreadRef = { platform: 'slack', channelId: res.channel ?? origin.channelId, threadId: res.ts! };
    this.knownThreads.claim(threadKey(thread.channelId, thread.threadId));
    if (message.attachments?.length) await upload(this.client(), thread, message.attachments, this.options.artifacts);
    return { thread, message: { thread, messageId: res.ts! } };
  }

  async post(thread: ThreadRef, message: OutgoingMessage): Promise<MessageRef> {
    const client = this.client();
    await checkAttachments(message.attachments, this.maxUploadBytes, this.options.artifacts);
    await this.ensureThread(thread);
    // Files first, so a take's vote buttons sit under its clip.
    const files = message.attachments?.length ? await upload(this.client(), thread, message.attachments, this.options.artifacts) : [];
    try {
      const res = await client.chat.postMessage({
        channel: thread.channelId,
        thread_ts: thread.threadId,
        ...this.body(message, attachmentNames(message.attachments)),
        unfurl_links: false,
        unfurl_media: false,
      });
      // The files are a message of their own on Slack: their ids travel with the ref, so
      // `replace` can delete them, after a restart too (the core stores the ref).
      return { thread, messageId: res.ts!, ...(files.length > 0 && { files }) };
    } catch (error) {
      throw fromSlackError(error, 'post in the session thread');
    }
  }

  /**
   * Deletes the message's uploaded files (files.delete, so Slack serves them nowhere), uploads
   * `message.attachments` into the thread when there are any (Slack cannot add files to a message
   * that exists: they arrive as a file message of their own, at the end of the thread), and
   * updates the message to `message` (chat.update). The returned ref carries the new files' ids,
   * so the next replace deletes them. A message already deleted resolves: its files were deleted
   * first.
   */
  async replace(ref: MessageRef, message: OutgoingMessage): Promise<MessageRef> {
    const client = this.client();
    await checkAttachments(message.attachments, this.maxUploadBytes, this.options.artifacts);
    await deleteFiles(client, ref.files ?? []);
    const files = message.attachments?.length ? await upload(client, ref.thread, message.attachments, this.options.artifacts) : [];
    const body = this.body(message, attachmentNames(message.attachments));
    await this.edits.submit(threadKey(ref.thread.channelId, ref.messageId), async () => {
      try {
        await client.chat.update({ channel: ref.thread.channelId, ts: ref.messageId, ...body });
      } catch (error) {
        if (slackErrorName(error) === 'message_not_found') return;
        throw fromSlackError(error, 'replace the message');
      }
    });
    const { files: _old, ...rest } = ref;
    return { ...rest, ...(files.length > 0 && { files }) };
  }

  async edit(ref: MessageRef, message: OutgoingMessage): Promise<void> {
    const client = this.client();
    const body = this.body(message);
    await this.edits.submit(threadKey(ref.thread.channelId, ref.messageId), async () => {
      try {
        await client.chat.update({ channel: ref.thread.channelId, ts: ref.messageId, ...body });
      } catch (error) {
        throw fromSlackError(error, 'update the message');
      }
    });
  }

  /**
   * Slack threads have no name, so the title has nowhere to go: the root message (the session
   * header, whose ts is the thread's) shows the heading's header through chat.update, in the
   * message's edit queue, where a newer header replaces one still waiting its turn.
   */
  async retitle(thread: ThreadRef, heading: ThreadHeading): Promise<void> {
    if (heading.header === undefined) return;
    await this.edit({ thread, messageId: thread.threadId }, { text: heading.header });
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

  /** A message as Block Kit, its command hints in Slack's form (`/dailies cut`, see ./command-wording.ts). */
  private body(message: Omit<OutgoingMessage, 'attachments'>, fallbackText?: string) {
    return messageBody({ ...message, text: this.rt.wording(message.text) }, fallbackText);
  }

  private client(): App['client'] {
    if (!this.app) throw new DailiesError('unavailable', 'The Slack adapter is not running; start it first.', { retryable: true });
    return this.app.client;
  }
}
