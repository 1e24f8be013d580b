import type { ArtifactReader } from '../../src/core/ports/artifact-store.ts';
import type { App, RespondFn } from '@slack/bolt';
import type { ChatEvent, ChatUser, EventOutcome } from '../../src/core/ports/chat-adapter.ts';
import type { AttachmentRules } from '../../src/safety/attachment-check.ts';
import type { SlackAdapterLogger } from './bolt-logger.ts';
import type { LogLevel } from '../../src/config.ts';
import type { CommandSyntax } from './command-syntax.ts';
import type { SlackConfig } from './config.ts';
import type { RecentIds } from './recent-ids.ts';
import type { SlackFileLike } from './slack-files.ts';

/**
 * The Slack adapter's options and the state its parts share: the class in ./slack-adapter.ts
 * owns the app and the outgoing calls, ./slack-app.ts builds and starts the app, ./listeners.ts
 * and ./thread-messages.ts take the incoming events, ./answers.ts answers them.
 */

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
  /** Bolt's and WebClient's level (default info); the app passes LOG_LEVEL. */
  logLevel?: LogLevel;
  /** Where attachments' bytes are read from (OutgoingAttachment.key); posts with attachments need it. */
  artifacts?: ArtifactReader;
}

/** Where an event came from, for answering it: the trigger opens modals, respond() reaches users the bot cannot post to. */
export interface ReplyContext {
  triggerId?: string;
  respond?: RespondFn;
}

/** The fields of message and app_mention events this adapter reads. */
export interface MessageLike {
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
  /** The workspace (team id) the message was posted in. */
  team?: string;
}

/** What the adapter's parts share; built by SlackAdapter. */
export interface SlackRuntime {
  readonly options: SlackAdapterOptions;
  readonly logger: SlackAdapterLogger;
  readonly syntax: ReadonlyMap<string, CommandSyntax>;
  /** Text the adapter shows, with each command in the form Slack users type it (./command-wording.ts). */
  wording(text: string): string;
  /** Deliveries taken lately (retries and a mention's twin event are dropped by these). */
  readonly recent: RecentIds;
  /** Session threads this process knows, by threadKey. */
  readonly knownThreads: RecentIds;
  /** The bot's own user id and bot id ('' until start() has checked the token). */
  botUserId(): string;
  botId(): string;
  /** The running app's Web API client; throws `unavailable` before start(). */
  client(): App['client'];
  /** True while a core handler is attached (between start() and stop()). */
  running(): boolean;
  /** Hands an event to the core (src/core/call-core.ts); never throws. */
  callCore(event: ChatEvent): Promise<EventOutcome>;
  user(id: string, fallbackName?: string): Promise<ChatUser>;
  /** Runs work after the acknowledgement, counted for idle() and stop(). */
  track(work: () => Promise<void>): void;
}

export function threadKey(channel: string, ts: string): string {
  return `${channel}:${ts}`;
}

/**
 * True for a delivery Slack marks as a retry (retry_num >= 1) of one this process already took.
 * An unmarked repeat goes through with the same id: the core dedupes by id (claimEvent), and
 * only Slack's own retries are known to be copies.
 */
export function isRetryOfSeen(rt: SlackRuntime, key: string, retryNum: number | undefined): boolean {
  const claim = rt.recent.claim(key);
  return claim !== 'new' && retryNum !== undefined && retryNum >= 1;
}
