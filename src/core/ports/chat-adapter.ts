/**
 * The chat seam. Every platform (local web chat, Discord, Slack) implements `ChatAdapter`;
 * the core only ever sees these types, never discord.js or Bolt. Everything here is plain data
 * that survives JSON (thread references are stored in Redis and carried in job payloads).
 */

export type Platform = 'local' | 'discord' | 'slack';

/** Where a session lives. `threadId` is the platform's thread (Discord thread channel, Slack thread_ts, local thread id). */
export interface ThreadRef {
  platform: Platform;
  channelId: string;
  threadId: string;
}

export interface MessageRef {
  thread: ThreadRef;
  messageId: string;
  /**
   * The platform's ids of files posted beside the message rather than inside it (Slack uploads a
   * clip as a file share of its own, and `files.delete` needs its id). Opaque to the core; kept
   * with the ref in the session store, so `replace` can remove them after a restart.
   */
  files?: string[];
}

export interface ChatUser {
  id: string;
  name: string;
  /** Platform moderator (Discord Manage Messages, Slack workspace admin): may finalize/cancel any session. */
  canModerate?: boolean;
}

/**
 * A button. `action` is the server-side action key (<= 100 chars, Discord's custom_id cap);
 * it names state kept on the server, so buttons keep working after a restart.
 */
export interface Button {
  action: string;
  label: string;
  style?: 'primary' | 'secondary' | 'success' | 'danger';
  disabled?: boolean;
}

/**
 * A file to upload with a message: an artifact named by its `key` in the ArtifactStore, which the
 * adapter reads through the ArtifactReader it was built with (Discord and Slack upload the bytes,
 * the web chat serves the key). A key rather than a local path, because the workers that stored
 * the file may run on machines that share no disk with the bot (an S3 bucket between them).
 */
export interface OutgoingAttachment {
  kind: 'preview' | 'final';
  key: string;
  filename: string;
  contentType: string;
  bytes: number;
  /** The file carries signed Content Credentials (C2PA); a platform that can show them offers them with it. */
  signed?: boolean;
}

export interface OutgoingMessage {
  text: string;
  attachments?: OutgoingAttachment[];
  /** Rows of buttons (Discord: <= 5 rows of <= 5). */
  buttons?: Button[][];
}

/** A file a user attached; adapters fetch only from their platform's own hosts. */
export interface IncomingAttachment {
  url: string;
  filename: string;
  contentType?: string;
  bytes?: number;
}

interface EventBase {
  /** The platform's id for this delivery (interaction id, Slack trigger/event id, local request id): the same id twice is one event. */
  id: string;
  platform: Platform;
  /**
   * The workspace the event happened in: the Discord server (guild id), the Slack workspace
   * (team id); absent for the web chat, which is one workspace. Moderation that holds across
   * channels (`/block`) is kept per workspace.
   */
  workspaceId?: string;
  user: ChatUser;
  receivedAt: number;
  /**
   * When the adapter acknowledged the platform, where that happens before the core answers
   * (Discord's deferral, Slack's `ack()`); absent where the answer is the acknowledgement.
   */
  ackedAt?: number;
}

export interface CommandEvent extends EventBase {
  kind: 'command';
  channelId: string;
  /** Set when the command was typed inside a session thread. */
  thread?: ThreadRef;
  name: string;
  /** Raw options as the platform delivered them; commands validate them with zod. */
  options: Record<string, unknown>;
  attachments?: IncomingAttachment[];
}

export interface ReplyEvent extends EventBase {
  kind: 'reply';
  thread: ThreadRef;
  text: string;
  attachments?: IncomingAttachment[];
}

export interface ActionEvent extends EventBase {
  kind: 'action';
  thread: ThreadRef;
  /** The `Button.action` that was clicked, or a modal's action with its submitted `values`. */
  action: string;
  values?: Record<string, string>;
}

export type ChatEvent = CommandEvent | ReplyEvent | ActionEvent;

/** What the core answers to an event; adapters turn it into the platform's response. */
export interface EventOutcome {
  /** The session thread the event created or touched. */
  thread?: ThreadRef;
  /** Shown only to the acting user (Discord/Slack ephemeral); one sentence for refusals. */
  ephemeral?: string;
  /** A refusal or error: stable code plus a one-sentence human message. */
  error?: { code: string; message: string };
  /** Ask the adapter to open an edit form pre-filled with these values (Discord/Slack modal). */
  openForm?: { action: string; title: string; fields: { id: string; label: string; value: string; multiline?: boolean }[] };
}

export type ChatEventHandler = (event: ChatEvent) => Promise<EventOutcome>;

/**
 * What a session thread shows of the session's current state, so people scanning a channel see
 * where each session is now rather than where it began (ChatAdapter.retitle).
 */
export interface ThreadHeading {
  /**
   * The thread's name, e.g. `v3 · a red circle moving up`. Given whole: each adapter clips it to
   * its platform's limit (Discord 100 characters, the web chat 100; Slack threads have no name).
   */
  title: string;
  /**
   * The new text of the thread's root message (the session header: who started it, the current
   * version and its author). The root keeps its files; a session root has no buttons. Absent:
   * the root stays as it is.
   */
  header?: string;
}

export interface ChatAdapter {
  readonly platform: Platform;
  /**
   * Largest attachment this thread accepts. Per thread because Discord's limit is per server
   * (boosts raise it; each interaction carries its attachment_size_limit, 10 MiB by default);
   * Slack and the local chat have one limit.
   */
  maxUploadBytesFor(thread: ThreadRef): number;
  /** Connect and start delivering events to `handler`. Acknowledge the platform first (within its deadline, Discord/Slack 3 s), then call the handler. */
  start(handler: ChatEventHandler): Promise<void>;
  stop(): Promise<void>;
  /** Post the session's first message for a command and open a thread on it. */
  startThread(origin: CommandEvent, message: OutgoingMessage): Promise<{ thread: ThreadRef; message: MessageRef }>;
  /**
   * Posts into a thread. `options.key` never changes across retries of the same item (the core's
   * post key): an adapter whose platform lets it make the post idempotent does so, and answers a
   * repeat with the first message's ref, edited to the latest content. The web chat does it for
   * good; Discord through its enforced nonce, which it remembers for a few minutes; Slack has
   * nothing alike, so there the post claims' lease is the only guard.
   */
  post(thread: ThreadRef, message: OutgoingMessage, options?: { key?: string }): Promise<MessageRef>;
  /** Edit in place (progress messages, vote tallies). Attachments are not changed by edits. */
  edit(ref: MessageRef, message: OutgoingMessage): Promise<void>;
  /**
   * Removes every file the message carries from the platform (its copy deleted, not just hidden)
   * and shows `message` in its place, with `message.attachments` as its files (none: the message
   * keeps no file). Two uses: a moderator's removal of a take (a note, no files), and a job's
   * progress message swapping its preview for the newest one. A separate call because `edit`
   * keeps attachments by contract (a vote tally must never drop a clip).
   * Discord and the web chat change the message in place. Slack cannot add files to a message
   * that exists: it deletes the old files and uploads the new ones into the thread (a file
   * message of their own, as every Slack upload is), so the returned ref carries the new files'
   * ids; the caller keeps the returned ref.
   * Idempotent: replacing a message already replaced, or one someone deleted by hand, resolves,
   * so a removal that was interrupted can simply be run again.
   */
  replace(ref: MessageRef, message: OutgoingMessage): Promise<MessageRef>;
  /**
   * Shows the session's current state on its thread: the thread's name and its root message.
   * Resolves once the platform has the change or, where it limits how often a thread may change,
   * once the change is scheduled; a newer heading for the same thread supersedes one still waiting,
   * so a stale name is never applied after a newer one.
   * - Discord: renames the thread (PATCH /channels/{thread.id} `name`, 1–100 characters) and edits
   *   its starter message. Discord allows 2 renames per thread per 10 minutes: the adapter keeps
   *   only the newest wanted name and applies it when the window allows (its own count, and the
   *   429's retry_after after a restart), without making the caller wait.
   * - Slack: threads have no name; only the root message changes (chat.update, Tier 3).
   * - Web chat: the thread's title (GET /api/threads/<id>, the page's heading) and its root
   *   message, announced live as `thread.updated` with `title`.
   */
  retitle(thread: ThreadRef, heading: ThreadHeading): Promise<void>;
}
