import type { ArtifactReader } from '../../src/core/ports/artifact-store.ts';
import type { Client, RepliableInteraction, ThreadAutoArchiveDuration } from 'discord.js';
import type { ChatEvent, EventOutcome } from '../../src/core/ports/chat-adapter.ts';
import type { Logger } from '../../src/core/runtime.ts';
import type { CommandSpec } from './command-definitions.ts';
import type { DiscordConfig } from './config.ts';
import type { PlaceMemory } from './place-memory.ts';
import type { RecentPrompts, SuggestionProvider } from './suggestions.ts';

/**
 * The Discord adapter's options and the state its parts share: the class in ./discord-adapter.ts
 * owns the client and the outgoing calls, ./gateway.ts the connection, ./interactions.ts and
 * ./thread-replies.ts the incoming events, ./interaction-replies.ts the answers to them.
 */

/** The core's Logger port, so the app can pass its own (the process logger by default). */
export type AdapterLogger = Logger;

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
  /** The window of Discord's two renames per thread (10 minutes); tests against the stand-in shorten both. */
  renameWindowMs?: number;
  logger?: AdapterLogger;
  onEventSettled?: (event: SettledEvent) => void;
  /** Where attachments' bytes are read from (OutgoingAttachment.key); posts with attachments need it. */
  artifacts?: ArtifactReader;
}

/** How an interaction was first answered; `none` when another delivery of it already was (redelivery). */
export type Ack = 'session' | 'ephemeral' | 'update' | 'modal' | 'autocomplete' | 'none';

/** An interaction being answered, by id, from its acknowledgement until the core's answer is sent. */
export interface Pending {
  interaction: RepliableInteraction;
  ack: Ack;
  /** Set once the deferred public reply has become the session message. */
  sessionMessage?: { id: string; channelId: string };
  /** When Discord accepted the first response (Date.now()). */
  ackedAt?: number;
}

/** What the adapter's parts share; built by DiscordAdapter, alive from construction to the end. */
export interface DiscordRuntime {
  readonly options: DiscordAdapterOptions;
  readonly log: AdapterLogger;
  readonly specs: ReadonlyMap<string, CommandSpec>;
  readonly pending: Map<string, Pending>;
  readonly places: PlaceMemory;
  readonly prompts: RecentPrompts;
  /** Take references (`v2#1`) of the takes posted in each thread, for take autocomplete. */
  readonly takeRefs: RecentPrompts;
  /** The running client, undefined before start() and after stop(). */
  client(): Client | undefined;
  /** Hands an event to the core (src/core/call-core.ts); never throws. */
  callCore(event: ChatEvent): Promise<EventOutcome>;
  /** Reports a settled event to `onEventSettled`, which must not break the adapter. */
  settled(event: SettledEvent): void;
}

export const TIMED_OUT = Symbol('timed out');

/** `value` after `ms`, without keeping the process alive. */
export function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, ms, value).unref());
}
