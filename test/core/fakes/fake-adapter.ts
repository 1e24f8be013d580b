import type { ChatAdapter, ChatEventHandler, CommandEvent, MessageRef, OutgoingMessage, Platform, ThreadRef } from '../../../src/core/ports/chat-adapter.ts';

export interface RecordedMessage {
  ref: MessageRef;
  message: OutgoingMessage;
  edits: OutgoingMessage[];
}

/** A ChatAdapter that records threads, posts and edits; `latest(ref)` is what a person would see now. */
export class FakeAdapter implements ChatAdapter {
  readonly threads: ThreadRef[] = [];
  readonly posts: RecordedMessage[] = [];
  failNextPost = false;
  private nextId = 1;

  constructor(
    readonly platform: Platform = 'local',
    readonly maxUploadBytes = 10 * 1024 * 1024,
  ) {}

  maxUploadBytesFor(_thread: ThreadRef): number {
    return this.maxUploadBytes;
  }

  async start(_handler: ChatEventHandler): Promise<void> {}
  async stop(): Promise<void> {}

  async startThread(origin: CommandEvent, message: OutgoingMessage) {
    const thread: ThreadRef = { platform: this.platform, channelId: origin.channelId, threadId: `t${this.nextId++}` };
    this.threads.push(thread);
    const ref = await this.post(thread, message);
    return { thread, message: ref };
  }

  async post(thread: ThreadRef, message: OutgoingMessage): Promise<MessageRef> {
    if (this.failNextPost) {
      this.failNextPost = false;
      throw new Error('platform said no');
    }
    const ref = { thread, messageId: `m${this.nextId++}` };
    this.posts.push({ ref, message: structuredClone(message), edits: [] });
    return ref;
  }

  async edit(ref: MessageRef, message: OutgoingMessage): Promise<void> {
    const rec = this.posts.find((p) => p.ref.messageId === ref.messageId);
    if (!rec) throw new Error(`edit of unknown message ${ref.messageId}`);
    rec.edits.push(structuredClone(message));
  }

  latest(rec: RecordedMessage): OutgoingMessage {
    return rec.edits.at(-1) ?? rec.message;
  }

  postsIn(thread: ThreadRef): RecordedMessage[] {
    return this.posts.filter((p) => p.ref.thread.threadId === thread.threadId && p.ref.thread.channelId === thread.channelId);
  }

  find(predicate: (text: string) => boolean): RecordedMessage[] {
    return this.posts.filter((p) => predicate(p.message.text));
  }
}
