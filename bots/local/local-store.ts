import type { Redis } from 'ioredis';
import type { Button } from '../../src/core/ports/chat-adapter.ts';
import { LuaScript } from '../../src/redis/lua-script.ts';

/**
 * Redis persistence of the local web chat: channels, threads, messages, and one ordered event log
 * per stream (a channel or a thread), so a restarted process loses nothing and a browser can resume
 * its live view from the last sequence number it saw.
 */

export interface StoredAttachment {
  kind: 'preview' | 'final';
  /** Path under the artifacts directory, '/'-separated; the URL is derived from it when read. */
  key: string;
  filename: string;
  contentType: string;
  bytes: number;
  /** The file carries signed Content Credentials (C2PA); absent when it does not. */
  signed?: true;
}

export interface StoredAuthor {
  id: string;
  name: string;
  bot: boolean;
}

export interface StoredMessage {
  id: string;
  channelId: string;
  /** The thread the message belongs to; a session root carries its own thread's id. */
  threadId: string | null;
  root: boolean;
  author: StoredAuthor;
  text: string;
  attachments: StoredAttachment[];
  buttons: Button[][];
  /** For a session root: who typed which command, shown like Discord's "X used /video". */
  invocation?: { userId: string; userName: string; command: string };
  createdAt: number;
  editedAt: number | null;
  rev: number;
}

export interface StoredThread {
  id: string;
  channelId: string;
  rootMessageId: string;
  title: string;
  createdAt: number;
  createdBy: { id: string; name: string };
}

export interface StoredChannel {
  id: string;
  name: string;
  createdAt: number;
}

/** `c:<channelId>` holds channel-level messages (session roots); `t:<threadId>` a thread's messages. */
export type StreamName = `c:${string}` | `t:${string}`;

export type StreamEvent =
  | { stream: StreamName; seq: number; type: 'message.posted' | 'message.edited'; message: StoredMessage }
  | { stream: StreamName; seq: number; type: 'thread.updated'; thread: ThreadUpdate };

/** What changed about a thread: its reply count after a post, or its title after a retitle (fields absent did not change). */
export type ThreadUpdate = { id: string; replies: number; lastActivityAt: number } | { id: string; title: string };

/** Delivered to live listeners; `resync` means the pub/sub link was re-established and events may have been missed. */
export type LiveSignal = StreamEvent | { type: 'resync' };

export interface Snapshot {
  seq: number;
  total: number;
  messages: StoredMessage[];
}

export interface StreamBacklog {
  /** True when events after the caller's sequence number were trimmed: refetch the whole state. */
  reset: boolean;
  seq: number;
  events: StreamEvent[];
}

// Posting, editing and appending bump the stream's sequence number, log the event and publish it
// in one step (see ./lua, KEYS and ARGV at the top of each script), read once at load.
const WRITE_MESSAGE = LuaScript.fromFile(new URL('./lua/write-message-n.lua', import.meta.url));
const APPEND_EVENT = LuaScript.fromFile(new URL('./lua/append-event-2.lua', import.meta.url));
const READ_SNAPSHOT = LuaScript.fromFile(new URL('./lua/read-snapshot-3.lua', import.meta.url));
const FORGET_THREAD = LuaScript.fromFile(new URL('./lua/forget-thread-7.lua', import.meta.url));
const RETITLE_THREAD = LuaScript.fromFile(new URL('./lua/retitle-thread-5.lua', import.meta.url));

/** Largest snapshot; also keeps Lua's unpack() far below its stack limit. */
export const MAX_SNAPSHOT = 1000;

export interface LocalChatStoreOptions {
  redis: Redis;
  prefix: string;
  /** Events kept per stream for Last-Event-ID resume; older ones are trimmed. */
  eventLogSize: number;
  logger: Pick<Console, 'warn' | 'error'>;
}

export class LocalChatStore {
  readonly redis: Redis;
  readonly prefix: string;
  private readonly keep: number;
  private readonly logger: Pick<Console, 'warn' | 'error'>;
  private subscriber: Redis | null = null;
  private opening: Promise<void> | null = null;
  private readonly listeners = new Map<StreamName, Set<(signal: LiveSignal) => void>>();

  constructor(options: LocalChatStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix;
    this.keep = options.eventLogSize;
    this.logger = options.logger;
  }

  private key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  private get pubsubChannel(): string {
    return this.key('events');
  }

  private streamKeys(stream: StreamName): [seq: string, log: string, list: string] {
    return [this.key('s', stream, 'seq'), this.key('s', stream, 'log'), this.key('s', stream, 'list')];
  }

  /** Subscribes to the live event channel; events of writes made before this resolves are only in the logs. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      const sub = this.redis.duplicate();
      this.subscriber = sub;
      sub.on('message', (_channel: string, raw: string) => this.dispatch(raw));
      sub.on('error', (error: Error) => this.logger.warn(`local chat: pub/sub connection: ${error.message}`));
      let readyOnce = false;
      sub.on('ready', () => {
        // ioredis resubscribes after a reconnect; whatever was published meanwhile is only in the logs.
        if (readyOnce) for (const set of this.listeners.values()) for (const l of set) l({ type: 'resync' });
        readyOnce = true;
      });
      await sub.subscribe(this.pubsubChannel);
      readyOnce = true;
    })();
    return this.opening;
  }

  async close(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = null;
    this.opening = null;
    if (sub) {
      sub.disconnect();
    }
  }

  private dispatch(raw: string): void {
    let event: StreamEvent;
    try {
      event = JSON.parse(raw) as StreamEvent;
    } catch {
      this.logger.warn('local chat: ignored an unreadable event from pub/sub');
      return;
    }
    const set = this.listeners.get(event.stream);
    if (!set) return;
    for (const listener of set) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error('local chat: a live listener failed', error);
      }
    }
  }

  /** Live events of one stream, in sequence order; returns the unsubscribe function. */
  subscribe(stream: StreamName, listener: (signal: LiveSignal) => void): () => void {
    let set = this.listeners.get(stream);
    if (!set) this.listeners.set(stream, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(stream) === set) this.listeners.delete(stream);
    };
  }

  // ---- channels -------------------------------------------------------------------------------

  async ensureChannel(id: string, now: number): Promise<StoredChannel> {
    const channel: StoredChannel = { id, name: id, createdAt: now };
    await this.redis.hsetnx(this.key('channels'), id, JSON.stringify(channel));
    return (await this.getChannel(id)) ?? channel;
  }

  async getChannel(id: string): Promise<StoredChannel | null> {
    const raw = await this.redis.hget(this.key('channels'), id);
    return raw ? (JSON.parse(raw) as StoredChannel) : null;
  }

  async listChannels(): Promise<StoredChannel[]> {
    const all = await this.redis.hvals(this.key('channels'));
    return all.map((raw) => JSON.parse(raw) as StoredChannel).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  // ---- threads and messages -------------------------------------------------------------------

  async createThread(thread: StoredThread): Promise<void> {
    const created = await this.redis.hsetnx(this.key('threads'), thread.id, JSON.stringify(thread));
    if (created !== 1) throw new Error(`thread ${thread.id} exists already`);
  }

  async getThread(id: string): Promise<StoredThread | null> {
    const raw = await this.redis.hget(this.key('threads'), id);
    return raw ? (JSON.parse(raw) as StoredThread) : null;
  }

  async getMessage(id: string): Promise<StoredMessage | null> {
    const raw = await this.redis.hget(this.key('messages'), id);
    return raw ? (JSON.parse(raw) as StoredMessage) : null;
  }

  /** The streams a message appears in: a session root shows both in its channel and atop its thread. */
  static streamsOf(message: Pick<StoredMessage, 'channelId' | 'threadId' | 'root'>): StreamName[] {
    if (message.root && message.threadId) return [`c:${message.channelId}`, `t:${message.threadId}`];
    if (message.threadId) return [`t:${message.threadId}`];
    return [`c:${message.channelId}`];
  }

  /** Returns, per stream, the new sequence number and the stream's message count. */
  async writeMessage(mode: 'post' | 'edit', message: StoredMessage): Promise<{ stream: StreamName; seq: number; count: number }[]> {
    const streams = LocalChatStore.streamsOf(message);
    const keys = [this.key('messages'), ...streams.flatMap((s) => this.streamKeys(s))];
    const args = [mode, message.id, JSON.stringify(message), this.pubsubChannel, String(this.keep), ...streams];
    const out = (await WRITE_MESSAGE.run(this.redis, keys, args)) as number[];
    return streams.map((stream, i) => ({ stream, seq: Number(out[i * 2]), count: Number(out[i * 2 + 1]) }));
  }

  async appendThreadUpdate(channelId: string, thread: { id: string; replies: number; lastActivityAt: number }): Promise<number> {
    const stream: StreamName = `c:${channelId}`;
    const [seqKey, logKey] = this.streamKeys(stream);
    const members = `,"thread":${JSON.stringify(thread)}`;
    return Number(await APPEND_EVENT.run(this.redis, [seqKey, logKey], [stream, 'thread.updated', members, this.pubsubChannel, String(this.keep)]));
  }

  /** Stores the thread's new title and announces it on the thread's and its channel's streams; false when the thread is gone. */
  async retitleThread(thread: StoredThread, title: string): Promise<boolean> {
    const channel: StreamName = `c:${thread.channelId}`;
    const own: StreamName = `t:${thread.id}`;
    const [cSeq, cLog] = this.streamKeys(channel);
    const [tSeq, tLog] = this.streamKeys(own);
    const members = `,"thread":${JSON.stringify({ id: thread.id, title })}`;
    const args = [thread.id, JSON.stringify({ ...thread, title }), members, this.pubsubChannel, String(this.keep), channel, own];
    return Number(await RETITLE_THREAD.run(this.redis, [this.key('threads'), cSeq, cLog, tSeq, tLog], args)) === 1;
  }

  async snapshot(stream: StreamName, limit: number): Promise<Snapshot> {
    const [seqKey, , listKey] = this.streamKeys(stream);
    const n = Math.max(1, Math.min(MAX_SNAPSHOT, Math.floor(limit)));
    const out = (await READ_SNAPSHOT.run(this.redis, [seqKey, listKey, this.key('messages')], [String(n)])) as (string | number)[];
    const messages: StoredMessage[] = [];
    for (const raw of out.slice(2)) if (typeof raw === 'string' && raw) messages.push(JSON.parse(raw) as StoredMessage);
    return { seq: Number(out[0]), total: Number(out[1]), messages };
  }

  /** Message counts of several threads (root included), for "N replies" under session roots. */
  async threadSizes(threadIds: string[]): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    if (threadIds.length === 0) return sizes;
    const pipeline = this.redis.pipeline();
    for (const id of threadIds) pipeline.llen(this.streamKeys(`t:${id}`)[2]);
    const results = (await pipeline.exec()) ?? [];
    threadIds.forEach((id, i) => sizes.set(id, Number(results[i]?.[1] ?? 0)));
    return sizes;
  }

  async currentSeq(stream: StreamName): Promise<number> {
    return Number((await this.redis.get(this.streamKeys(stream)[0])) ?? 0);
  }

  /** Events after `afterSeq`, oldest first; `reset` when some of them were already trimmed. */
  async eventsAfter(stream: StreamName, afterSeq: number): Promise<StreamBacklog> {
    const [seqKey, logKey] = this.streamKeys(stream);
    const [[, seqRaw], [, raws]] = (await this.redis
      .multi()
      .get(seqKey)
      .zrangebyscore(logKey, `(${afterSeq}`, '+inf')
      .exec()) as [[unknown, string | null], [unknown, string[]]];
    const seq = Number(seqRaw ?? 0);
    const events = raws.map((raw) => JSON.parse(raw) as StreamEvent);
    const first = events[0];
    const reset = afterSeq > seq || (seq > afterSeq && (!first || first.seq > afterSeq + 1));
    return { reset, seq, events };
  }

  /**
   * Deletes a thread, its messages and its root's place in the channel (retention: the session it
   * showed expired); answers how many messages went, 0 when it was gone already. Browsers showing
   * it keep their copy until they reload.
   */
  async forgetThread(channelId: string, threadId: string): Promise<number> {
    const keys = [this.key('threads'), this.key('messages'), ...this.streamKeys(`t:${threadId}`), this.streamKeys(`c:${channelId}`)[2], this.key('forms', threadId)];
    return Number(await FORGET_THREAD.run(this.redis, keys, [threadId]));
  }

  // ---- forms and idempotent responses ---------------------------------------------------------

  async rememberForm(threadId: string, action: string): Promise<void> {
    const key = this.key('forms', threadId);
    await this.redis.multi().sadd(key, action).expire(key, 7 * 24 * 3600).exec();
  }

  async isFormOpen(threadId: string, action: string): Promise<boolean> {
    return (await this.redis.sismember(this.key('forms', threadId), action)) === 1;
  }

  /** Stores the first response to an event id; returns the stored one when there was one already. */
  async rememberResponse<T>(eventId: string, response: T, ttlSeconds: number): Promise<T> {
    const key = this.key('responses', eventId);
    const set = await this.redis.set(key, JSON.stringify(response), 'EX', ttlSeconds, 'NX');
    if (set === 'OK') return response;
    const raw = await this.redis.get(key);
    return raw ? (JSON.parse(raw) as T) : response;
  }
}
