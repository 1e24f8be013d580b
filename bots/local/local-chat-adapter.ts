import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type {
  Button,
  ChatAdapter,
  ChatEvent,
  ChatEventHandler,
  CommandEvent,
  EventOutcome,
  MessageRef,
  OutgoingMessage,
  ThreadHeading,
  ThreadRef,
} from '../../src/core/ports/chat-adapter.ts';
import { callCore } from '../../src/core/call-core.ts';
import { DailiesError } from '../../src/errors.ts';
import { clip } from '../../src/core/text.ts';
import type { Logger } from '../../src/core/ports/logger.ts';
import { processLogger } from '../../src/logging/logger.ts';
import { defaultActionMatcher, type ActionMatcher } from './action-match.ts';
import { ArtifactFiles } from './artifact-files.ts';
import type { ArtifactReader } from '../../src/core/ports/artifact-store.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { commands as coreCommands } from '../../commands/index.ts';
import { commandHelpFromRegistry, completeCommandHelp, imageOptionsFromRegistry } from './command-help.ts';
import { formatCommandLine, type CommandHelp } from './command-line.ts';
import { normalizeUserName } from './local-users.ts';
import { LocalChatStore, type StoredAttachment, type StoredMessage, type StoredThread } from './local-store.ts';
import { LocalUploads, canHoldUploads } from './uploads.ts';
import type { PersonBlock } from '../../src/core/ports/person-blocks.ts';

/** What the core lends the local chat besides the event handler; each may be set after start. */
export interface LocalChatHooks {
  /** Session summary shown atop a thread (GET /api/threads/<id> `session`); null when unknown. */
  describeSession?: (thread: ThreadRef) => Promise<unknown>;
  /**
   * Command list for the page's autocomplete and for parsing typed lines. Default: the core's
   * registry. The options of a command the registry knows always come from its schema (see
   * command-help.ts); the hook adds descriptions and commands.
   */
  commandHelp?: () => CommandHelp[] | Promise<CommandHelp[]>;
  /** Turns "vote for take 2" into one of the core's button keys. */
  matchAction?: ActionMatcher;
  /** What /api/health reports as the frame check: the classifier's folder name, or "off". */
  frameCheck?: () => string;
  /** What /api/health reports as the prompt check: the text classifier's folder name, or "off". */
  promptCheck?: () => string;
  /** The person's running /block in the web chat (the core's list), so uploads refuse them too. */
  personBlock?: (personId: string) => Promise<PersonBlock | null>;
}

export interface LocalChatAdapterOptions {
  redis: Redis;
  /**
   * The ArtifactStore (or its reading half): attachments name keys in it, served as /artifacts/<key>.
   * A store that can also write and delete holds the images people upload (./uploads.ts).
   */
  artifacts?: ArtifactReader;
  /** Without `artifacts`: the filesystem store's folder (ARTIFACTS_DIR), read through an FsArtifactStore. */
  artifactsDir?: string;
  /** Redis key prefix; tests use a random one. Default "dailies:local:". */
  prefix?: string;
  /** Default 25 MiB. */
  maxUploadBytes?: number;
  /** Events kept per channel/thread for resuming live views. Default 1000. */
  eventLogSize?: number;
  /** Created when missing. Default ["general", "studio"]. */
  defaultChannels?: string[];
  /** Display name of the bot's own messages. Default "dailies". */
  botName?: string;
  hooks?: LocalChatHooks;
  /** Display names that moderate (`canModerate`), compared as names are (case and spacing ignored). Default: nobody. */
  moderators?: readonly string[];
  logger?: Logger;
  now?: () => number;
}

export const LOCAL_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
/** Discord's limits, enforced here so the core cannot rely on more than every platform allows. */
export const BUTTON_LIMITS = { rows: 5, perRow: 5, actionLength: 100, labelLength: 80 } as const;
/** Slack's message text limit, the larger of the two platforms. */
export const MESSAGE_TEXT_MAX = 40_000;
/** A thread's title, as long as Discord's thread names, so the page shows what Discord would. */
export const THREAD_TITLE_MAX = 100;

/** The core's commands as the page lists them; built once, the registry does not change at run time. */
const REGISTRY_HELP: CommandHelp[] = commandHelpFromRegistry(coreCommands);
const IMAGE_OPTIONS = imageOptionsFromRegistry(coreCommands);

const CHANNEL_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const OBJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isChannelId(id: string): boolean {
  return CHANNEL_ID.test(id);
}

export function isObjectId(id: string): boolean {
  return OBJECT_ID.test(id);
}

/**
 * A command's thread and root ids, the same for every delivery of it: its id is scoped to its
 * user, and its name and options are in too, so an id a client reuses for another command later
 * still opens a thread of its own.
 */
function idsOfCommand(origin: CommandEvent): { threadId: string; messageId: string } {
  const digest = createHash('sha256').update(`${origin.user.id}\0${origin.id}\0${origin.name}\0${JSON.stringify(origin.options)}`).digest('base64url');
  return { threadId: `t_${digest.slice(0, 12)}`, messageId: `m_${digest.slice(12, 24)}` };
}

function newId(kind: 't' | 'm'): string {
  return `${kind}_${randomBytes(9).toString('base64url')}`;
}

function checkMessage(message: OutgoingMessage): void {
  if (typeof message.text !== 'string' || message.text.length > MESSAGE_TEXT_MAX) {
    throw new DailiesError('bad_input', `A message's text must be a string of at most ${MESSAGE_TEXT_MAX} characters.`);
  }
  const rows = message.buttons ?? [];
  if (rows.length > BUTTON_LIMITS.rows || rows.some((r) => r.length > BUTTON_LIMITS.perRow)) {
    throw new DailiesError('bad_input', `A message holds at most ${BUTTON_LIMITS.rows} rows of ${BUTTON_LIMITS.perRow} buttons.`);
  }
  const seen = new Set<string>();
  for (const b of rows.flat()) {
    if (!b.action || b.action.length > BUTTON_LIMITS.actionLength || seen.has(b.action)) {
      throw new DailiesError('bad_input', `Button actions must be unique within a message and 1 to ${BUTTON_LIMITS.actionLength} characters long.`);
    }
    if (!b.label || b.label.length > BUTTON_LIMITS.labelLength) {
      throw new DailiesError('bad_input', `Button labels must be 1 to ${BUTTON_LIMITS.labelLength} characters long.`);
    }
    seen.add(b.action);
  }
}

function cleanButtons(rows: Button[][] | undefined): Button[][] {
  return (rows ?? [])
    .filter((row) => row.length > 0)
    .map((row) =>
      row.map((b) => {
        const out: Button = { action: b.action, label: b.label };
        if (b.style) out.style = b.style;
        if (b.disabled) out.disabled = true;
        return out;
      }),
    );
}

/**
 * The local web chat as a ChatAdapter: the reference implementation of the chat seam. Messages,
 * threads and channels live in Redis; every post and edit is published, in order and numbered per
 * thread, to the page's live streams. The platform side (the HTTP API, or a test driver) hands
 * events in through `deliver`.
 */
export class LocalChatAdapter implements ChatAdapter {
  readonly platform = 'local' as const;
  readonly maxUploadBytes: number;
  readonly store: LocalChatStore;
  readonly files: ArtifactFiles;
  readonly uploads: LocalUploads;
  readonly hooks: LocalChatHooks;
  readonly bot: { id: string; name: string; bot: true };
  /** The core's commands that take an image (`video`). */
  readonly imageCommands: readonly string[] = [...IMAGE_OPTIONS.keys()];
  private readonly defaultChannels: string[];
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly moderators: ReadonlySet<string>;
  private handler: ChatEventHandler | null = null;
  private opened: Promise<void> | null = null;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: LocalChatAdapterOptions) {
    this.maxUploadBytes = options.maxUploadBytes ?? LOCAL_MAX_UPLOAD_BYTES;
    this.logger = options.logger ?? processLogger().child({ platform: 'local' });
    this.now = options.now ?? Date.now;
    this.store = new LocalChatStore({
      redis: options.redis,
      prefix: options.prefix ?? 'dailies:local:',
      eventLogSize: options.eventLogSize ?? 1000,
      logger: this.logger,
    });
    if (!options.artifacts && options.artifactsDir === undefined) throw new DailiesError('bad_input', 'The local chat needs the artifact store (artifacts) or its folder (artifactsDir) to serve files from.');
    const artifacts = options.artifacts ?? new FsArtifactStore({ root: options.artifactsDir! });
    this.files = new ArtifactFiles(artifacts, options.artifactsDir);
    this.uploads = new LocalUploads({
      redis: options.redis,
      prefix: this.store.prefix,
      store: canHoldUploads(artifacts) ? artifacts : null,
      logger: this.logger,
      now: this.now,
      blocks: async (personId) => (await this.hooks.personBlock?.(personId)) ?? null,
    });
    this.hooks = options.hooks ?? {};
    this.moderators = new Set((options.moderators ?? []).map(normalizeUserName));
    this.bot = { id: 'dailies', name: options.botName ?? 'dailies', bot: true };
    this.defaultChannels = options.defaultChannels ?? ['general', 'studio'];
    for (const id of this.defaultChannels) {
      if (!isChannelId(id)) throw new DailiesError('bad_input', `Channel name "${id}" must be lower-case letters, digits and dashes.`);
    }
  }

  /** Connects the live event stream and creates the default channels; reading works without a handler. */
  open(): Promise<void> {
    this.opened ??= (async () => {
      await this.store.open();
      for (const id of this.defaultChannels) await this.store.ensureChannel(id, this.now());
    })().catch((error: unknown) => {
      this.opened = null;
      throw error;
    });
    return this.opened;
  }

  maxUploadBytesFor(_thread: ThreadRef): number {
    return this.maxUploadBytes;
  }

  async start(handler: ChatEventHandler): Promise<void> {
    await this.open();
    this.handler = handler;
  }

  async stop(): Promise<void> {
    this.handler = null;
    this.opened = null;
    await this.store.close();
  }

  /** True between start and stop: events reach the core. */
  get running(): boolean {
    return this.handler !== null;
  }

  async startThread(origin: CommandEvent, message: OutgoingMessage): Promise<{ thread: ThreadRef; message: MessageRef }> {
    if (origin.platform !== 'local') throw new DailiesError('bad_input', `A ${origin.platform} command cannot open a local chat thread.`);
    checkMessage(message);
    const channel = await this.store.getChannel(origin.channelId);
    if (!channel) throw new DailiesError('not_found', `There is no local chat channel #${origin.channelId}.`);
    // Ids derived from the command's delivery: a retry after the bot died anywhere in here (or
    // before the core remembered the thread) finds this thread instead of opening a second one.
    const { threadId, messageId } = idsOfCommand(origin);
    const existing = await this.store.getThread(threadId);
    if (existing) {
      const ref: ThreadRef = { platform: 'local', channelId: existing.channelId, threadId };
      if (!(await this.store.getMessage(existing.rootMessageId))) {
        const root = await this.buildMessage(existing.rootMessageId, existing.channelId, threadId, true, message, this.now());
        root.invocation = { userId: origin.user.id, userName: origin.user.name, command: formatCommandLine(origin.name, origin.options, await this.commandHelp()) };
        await this.store.writeMessage('post', root);
      }
      return { thread: ref, message: { thread: ref, messageId: existing.rootMessageId } };
    }
    const prompt = origin.options['prompt'];
    const title = (typeof prompt === 'string' && prompt.trim() ? prompt : message.text.split('\n')[0] ?? '').trim().slice(0, THREAD_TITLE_MAX) || `/${origin.name}`;
    const now = this.now();
    const thread: StoredThread = { id: threadId, channelId: channel.id, rootMessageId: messageId, title, createdAt: now, createdBy: { id: origin.user.id, name: origin.user.name } };
    // Attachments first: a refused file must not leave a thread without its root behind.
    const stored = await this.buildMessage(messageId, channel.id, threadId, true, message, now);
    stored.invocation = { userId: origin.user.id, userName: origin.user.name, command: formatCommandLine(origin.name, origin.options, await this.commandHelp()) };
    // The thread exists before its root is announced, so a page reacting to the root can open it.
    await this.store.createThread(thread);
    await this.store.writeMessage('post', stored);
    const ref: ThreadRef = { platform: 'local', channelId: channel.id, threadId };
    return { thread: ref, message: { thread: ref, messageId } };
  }

  /**
   * Writes to one thread run one at a time in call order, so the thread shows messages in the
   * order the core posted them (a slow attachment copy cannot let a later post overtake it) and
   * edits never work from a stale copy of the message.
   */
  private inOrder<T>(threadId: string, write: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(threadId) ?? Promise.resolve()).catch(() => undefined).then(write);
    this.queues.set(threadId, run);
    const forget = () => {
      if (this.queues.get(threadId) === run) this.queues.delete(threadId);
    };
    run.then(forget, forget);
    return run;
  }

  async post(thread: ThreadRef, message: OutgoingMessage, options: { key?: string } = {}): Promise<MessageRef> {
    checkMessage(message);
    return this.inOrder(String(thread?.threadId), async () => {
      const stored = await this.requireThread(thread);
      // With a key the id derives from it: a bot that died after this write and before recording
      // the post retries it later and finds the message here instead of posting it twice. The
      // retry carries the latest content (a progress message moved on meanwhile): edit to it.
      const messageId = options.key ? derivedId(`post:${options.key}`) : newId('m');
      const ref = { thread: { platform: 'local' as const, channelId: stored.channelId, threadId: stored.id }, messageId };
      if (options.key && (await this.store.getMessage(messageId))) {
        await this.applyEdit(ref, message);
        return ref;
      }
      const now = this.now();
      const built = await this.buildMessage(messageId, stored.channelId, stored.id, false, message, now);
      const [written] = await this.store.writeMessage('post', built);
      if (written) await this.store.appendThreadUpdate(stored.channelId, { id: stored.id, replies: written.count - 1, lastActivityAt: now });
      return ref;
    });
  }

  /**
   * Shows a person's own thread reply in the thread, as every chat platform does. The message id
   * derives from the event id, so a retried request shows the reply once.
   */
  async postUserReply(thread: ThreadRef, user: { id: string; name: string }, text: string, eventId: string): Promise<void> {
    return this.inOrder(String(thread?.threadId), async () => {
      const stored = await this.requireThread(thread);
      const messageId = derivedId(eventId);
      if (await this.store.getMessage(messageId)) return;
      const now = this.now();
      const built = await this.buildMessage(messageId, stored.channelId, stored.id, false, { text }, now);
      built.author = { id: user.id, name: user.name, bot: false };
      const [written] = await this.store.writeMessage('post', built);
      if (written) await this.store.appendThreadUpdate(stored.channelId, { id: stored.id, replies: written.count - 1, lastActivityAt: now });
    });
  }

  async edit(ref: MessageRef, message: OutgoingMessage): Promise<void> {
    checkMessage(message);
    return this.inOrder(String(ref?.thread?.threadId), () => this.applyEdit(ref, message));
  }

  private async applyEdit(ref: MessageRef, message: OutgoingMessage): Promise<void> {
    await this.requireThread(ref.thread);
    const current = isObjectId(ref.messageId) ? await this.store.getMessage(ref.messageId) : null;
    if (!current || current.threadId !== ref.thread.threadId) {
      throw new DailiesError('not_found', 'The message to edit does not exist in that local chat thread.');
    }
    const next: StoredMessage = { ...current, text: message.text, buttons: cleanButtons(message.buttons), editedAt: this.now(), rev: current.rev + 1 };
    try {
      await this.store.writeMessage('edit', next);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOT_FOUND')) throw new DailiesError('not_found', 'The message to edit no longer exists.');
      throw error;
    }
  }

  /**
   * The message shows `message` with `message.attachments` as its only files: none for a
   * moderator's removal, the newest preview for a job's progress message. The files this chat
   * serves are the ArtifactStore's own, which the core deletes on a removal (their /artifacts URLs
   * then answer 404); copies older versions of this chat made for the message are deleted here.
   * A message already gone resolves: it carries no files.
   */
  async replace(ref: MessageRef, message: OutgoingMessage): Promise<MessageRef> {
    checkMessage(message);
    await this.inOrder(String(ref?.thread?.threadId), async () => {
      await this.requireThread(ref.thread);
      const current = isObjectId(ref.messageId) ? await this.store.getMessage(ref.messageId) : null;
      if (!current || current.threadId !== ref.thread.threadId) return;
      await this.files.discardCopies(current.id);
      const { attachments } = await this.buildMessage(current.id, current.channelId, current.threadId, current.root, message, this.now());
      const next: StoredMessage = { ...current, text: message.text, attachments, buttons: cleanButtons(message.buttons), editedAt: this.now(), rev: current.rev + 1 };
      try {
        await this.store.writeMessage('edit', next);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('NOT_FOUND')) return;
        throw error;
      }
    });
    return ref;
  }

  /**
   * Gives the thread `heading.title` (clipped to THREAD_TITLE_MAX; what GET /api/threads/<id> and
   * the page's heading show) and shows `heading.header` as its root message's text. The new title
   * reaches open pages as `thread.updated` with `title`, on the thread's stream and its channel's.
   */
  async retitle(thread: ThreadRef, heading: ThreadHeading): Promise<void> {
    const title = clip(String(heading?.title ?? '').replace(/\s+/g, ' ').trim(), THREAD_TITLE_MAX);
    if (!title) throw new DailiesError('bad_input', 'A thread title needs at least one visible character.');
    if (heading.header !== undefined) checkMessage({ text: heading.header });
    return this.inOrder(String(thread?.threadId), async () => {
      const stored = await this.requireThread(thread);
      if (heading.header !== undefined) await this.applyEdit({ thread, messageId: stored.rootMessageId }, { text: heading.header });
      if (title !== stored.title && !(await this.store.retitleThread(stored, title))) {
        throw new DailiesError('not_found', 'That local chat thread no longer exists.');
      }
    });
  }

  /**
   * Hands a platform event to the core and returns its outcome. Never throws: a failing handler
   * becomes an error outcome for the acting user, and the adapter keeps serving.
   */
  async deliver(event: ChatEvent): Promise<EventOutcome> {
    // Whoever hands the event in, this adapter alone says who moderates here.
    const moderates = event?.user ? this.moderators.has(normalizeUserName(String(event.user.name))) : false;
    return callCore(this.handler ?? undefined, event?.user ? { ...event, user: { ...event.user, canModerate: moderates } } : event, this.logger);
  }

  async commandHelp(): Promise<CommandHelp[]> {
    try {
      const given = await this.hooks.commandHelp?.();
      return given ? completeCommandHelp(given, REGISTRY_HELP) : REGISTRY_HELP;
    } catch (error) {
      this.logger.warn("local chat: commandHelp failed; using the registry's list", error);
      return REGISTRY_HELP;
    }
  }

  /** The option of core command `name` that takes an image (`/video`: `image`), filled from an upload; undefined when it takes none. */
  imageOption(name: string): string | undefined {
    return IMAGE_OPTIONS.get(name);
  }

  get matchAction(): ActionMatcher {
    return this.hooks.matchAction ?? defaultActionMatcher;
  }

  async createChannel(id: string) {
    if (!isChannelId(id)) throw new DailiesError('bad_input', 'A channel name is 1 to 32 lower-case letters, digits and dashes, starting with a letter or digit.');
    return this.store.ensureChannel(id, this.now());
  }

  threadRef(thread: StoredThread): ThreadRef {
    return { platform: 'local', channelId: thread.channelId, threadId: thread.id };
  }

  async findThread(threadId: string): Promise<StoredThread | null> {
    return isObjectId(threadId) ? this.store.getThread(threadId) : null;
  }

  private async requireThread(ref: ThreadRef): Promise<StoredThread> {
    if (ref?.platform !== 'local') throw new DailiesError('bad_input', 'That thread belongs to another chat platform.');
    const thread = await this.findThread(ref.threadId);
    if (!thread || thread.channelId !== ref.channelId) throw new DailiesError('not_found', 'That local chat thread does not exist.');
    return thread;
  }

  private async buildMessage(id: string, channelId: string, threadId: string, root: boolean, message: OutgoingMessage, now: number): Promise<StoredMessage> {
    const attachments: StoredAttachment[] = [];
    for (const a of message.attachments ?? []) {
      const { key, bytes } = await this.files.adopt(a, this.maxUploadBytes);
      const stored: StoredAttachment = { kind: a.kind, key, filename: a.filename, contentType: a.contentType, bytes };
      if (a.signed === true) stored.signed = true;
      attachments.push(stored);
    }
    return {
      id,
      channelId,
      threadId,
      root,
      author: { ...this.bot },
      text: message.text,
      attachments,
      buttons: cleanButtons(message.buttons),
      createdAt: now,
      editedAt: null,
      rev: 0,
    };
  }
}

/** A message id that is the same for the same seed: retried writes find the first one. */
function derivedId(seed: string): string {
  return `m_${createHash('sha256').update(seed).digest('base64url').slice(0, 12)}`;
}
