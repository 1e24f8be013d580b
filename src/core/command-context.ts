import type { z } from 'zod';
import type { ChatEvent, ChatUser, CommandEvent, EventOutcome, IncomingAttachment, MessageRef, OutgoingMessage, Platform, ThreadRef } from './ports/chat-adapter.ts';
import type { JobQueue } from './ports/job-queue.ts';
import type { AuditLog } from './ports/audit-log.ts';
import type { ArtifactRef, ArtifactStore } from './ports/artifact-store.ts';
import type { SessionStore } from './ports/session-store.ts';
import type { PromptPolicy } from '../safety/prompt-policy.ts';
import type { PromptCheck } from './ports/prompt-check.ts';
import type { RateLimiter } from '../safety/rate-limit.ts';
import type { RenderQuota } from '../safety/render-quota.ts';
import type { ChannelTerms } from './ports/channel-terms.ts';
import type { PersonBlocks } from './ports/person-blocks.ts';
import type { ModelCatalog } from './ports/model-catalog.ts';
import type { SettingsStore } from './ports/settings-store.ts';
import type { Admission } from './admission.ts';
import type { Delivery } from './delivery.ts';
import type { Session } from './session.ts';
import type { AdapterDirectory, Clock, CoreConfig, IdSource, Logger } from './runtime.ts';

/**
 * What a command handler gets: every collaborator injected (so unit tests pass fakes of the
 * seams), plus the event, the acting user and the thread's session when there is one.
 */

/** Downloads an attachment from the platform's own hosts and stores it; returns the stored ref. */
export type ImageIntake = (attachment: IncomingAttachment, platform: Platform, signal?: AbortSignal) => Promise<ArtifactRef>;

export interface CoreServices {
  store: SessionStore;
  queue: JobQueue;
  policy: PromptPolicy;
  /** A text classifier every prompt passes after the terms (./prompt-screen.ts); null: none. */
  promptCheck: PromptCheck | null;
  clock: Clock;
  ids: IdSource;
  config: CoreConfig;
  log: Logger;
  adapters: AdapterDirectory;
  delivery: Pick<Delivery, 'track' | 'roundChanged'>;
  /** Hands recorded jobs to the queue after the event is answered. */
  admission: Pick<Admission, 'submit'>;
  rateLimiter: RateLimiter | null;
  /** Daily work budgets per person and channel; null: none. */
  quota: RenderQuota | null;
  /** Channels' own blocked terms (/policy); null: the server's list only. */
  channelTerms: ChannelTerms | null;
  /** People moderators blocked from the bot for a while (/block); null: nobody can be blocked. */
  blocks: PersonBlocks | null;
  images: ImageIntake | null;
  /** Written through recordAudit (./audit.ts), never awaited; null: nothing is recorded. */
  audit: AuditLog | null;
  /** Where a removed take's files are deleted (/remove); null: removing is refused. */
  artifacts: Pick<ArtifactStore, 'delete'> | null;
  /** The models the pool serves, one queue each (/models, `/video model:`); null: one model only. */
  models: ModelCatalog | null;
  /** People's and channels' render defaults (/settings); null: the built-in defaults only. */
  settings: SettingsStore | null;
}

export interface CommandContext extends CoreServices {
  event: ChatEvent;
  user: ChatUser;
  /** The session of the thread the event came from (expired vote rounds already closed), if any. */
  session: Session | null;
  post(thread: ThreadRef, message: OutgoingMessage): Promise<MessageRef>;
  startThread(origin: CommandEvent, message: OutgoingMessage): Promise<{ thread: ThreadRef; message: MessageRef }>;
  /** Name and description of every registered command (for help). */
  commands: ReadonlyArray<{ name: string; description: string }>;
}

/** `platform:channelId` of the channel an event happened in (a thread's parent channel). */
export function channelOf(ctx: Pick<CommandContext, 'event' | 'session'>): string {
  return `${ctx.event.platform}:${channelIdOf(ctx)}`;
}

/** The platform's id of that channel. */
export function channelIdOf(ctx: Pick<CommandContext, 'event' | 'session'>): string {
  const { event, session } = ctx;
  return session?.thread.channelId ?? (event.kind === 'command' ? event.channelId : event.thread.channelId);
}

/** The key that names one chat event across retries: the dedupe claim's key and JobRecord.origin. */
export function eventOrigin(event: Pick<ChatEvent, 'platform' | 'id'>): string {
  return `${event.platform}:${event.id}`;
}

export interface CommandDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  /** Validates the platform's raw options; messages are one sentence naming the option and its range. */
  options: S;
  handler(ctx: CommandContext, options: z.output<S>): Promise<EventOutcome>;
}

/** Keeps each command's option type while letting the registry hold them together. */
export function defineCommand<S extends z.ZodType>(definition: CommandDefinition<S>): CommandDefinition<S> {
  return definition;
}
