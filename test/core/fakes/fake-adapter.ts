import type { OutgoingAttachment, ChatAdapter, ChatEvent, ChatEventHandler, CommandEvent, EventOutcome, MessageRef, OutgoingMessage, Platform, ThreadHeading, ThreadRef } from '../../../src/core/ports/chat-adapter.ts';
import { callCore } from '../../../src/core/call-core.ts';
import type { Logger } from '../../../src/core/runtime.ts';
import { DailiesError } from '../../../src/errors.ts';
import { clip } from '../../../src/core/text.ts';

export interface RecordedMessage {
  ref: MessageRef;
  message: OutgoingMessage;
  edits: OutgoingMessage[];
  /** Set by `replace`: the files the message carries now (none: its files are gone from the platform). */
  files?: OutgoingAttachment[];
  /** How many times `replace` swapped its files. */
  replaced?: number;
}

const quiet: Logger = { warn: () => {}, error: () => {} };

/**
 * A ChatAdapter that records threads, posts and edits; `latest(ref)` is what a person would see now.
 * It keeps the real adapters' contract (test/conformance/chat-adapter.conformance.ts runs on it):
 * posts go only to threads it opened, attachments over the upload limit are refused, edits leave
 * attachments as posted, and `deliver` plays the platform handing an event to the core.
 */
export class FakeAdapter implements ChatAdapter {
  readonly threads: ThreadRef[] = [];
  readonly posts: RecordedMessage[] = [];
  failNextPost = false;
  /** Every `retitle` call, in order; `titles` holds each thread's name now. */
  readonly headings: Array<{ thread: ThreadRef; heading: ThreadHeading }> = [];
  readonly titles = new Map<string, string>();
  failNextRetitle = false;
  private nextId = 1;
  private handler: ChatEventHandler | undefined;

  constructor(
    readonly platform: Platform = 'local',
    readonly maxUploadBytes = 10 * 1024 * 1024,
  ) {}

  maxUploadBytesFor(_thread: ThreadRef): number {
    return this.maxUploadBytes;
  }

  async start(handler: ChatEventHandler): Promise<void> {
    this.handler = handler;
  }

  async stop(): Promise<void> {
    this.handler = undefined;
  }

  /**
   * The platform delivers an event, as the real adapters hand it over (src/core/call-core.ts):
   * the outcome is what the acting user sees; a handler that throws becomes the standard error.
   */
  deliver(event: ChatEvent): Promise<EventOutcome> {
    return callCore(this.handler, event, quiet);
  }

  /** A thread that already exists on the platform (opened before this adapter started, e.g. by a bot before a restart). */
  adoptThread(thread: ThreadRef): void {
    if (!this.threads.some((t) => sameThread(t, thread))) this.threads.push({ ...thread });
  }

  async startThread(origin: CommandEvent, message: OutgoingMessage) {
    const thread: ThreadRef = { platform: this.platform, channelId: origin.channelId, threadId: `t${this.nextId++}` };
    this.threads.push(thread);
    const prompt = origin.options['prompt'];
    this.titles.set(thread.threadId, clip(typeof prompt === 'string' ? prompt : (message.text.split('\n')[0] ?? ''), 100));
    const ref = await this.post(thread, message);
    return { thread, message: ref };
  }

  async post(thread: ThreadRef, message: OutgoingMessage): Promise<MessageRef> {
    if (this.failNextPost) {
      this.failNextPost = false;
      throw new Error('platform said no');
    }
    const known = this.threads.find((t) => sameThread(t, thread));
    if (!known) throw new DailiesError('not_found', `There is no thread ${thread.threadId} in channel ${thread.channelId}.`);
    for (const a of message.attachments ?? []) {
      if (a.bytes > this.maxUploadBytes) throw new DailiesError('bad_input', `The attachment ${a.filename} is over this thread's upload limit of ${this.maxUploadBytes} bytes.`);
    }
    const ref = { thread: { ...known }, messageId: `m${this.nextId++}` };
    this.posts.push({ ref, message: structuredClone(message), edits: [] });
    return ref;
  }

  async edit(ref: MessageRef, message: OutgoingMessage): Promise<void> {
    const rec = this.posts.find((p) => p.ref.messageId === ref.messageId && sameThread(p.ref.thread, ref.thread));
    if (!rec) throw new DailiesError('not_found', `edit of unknown message ${ref.messageId}`);
    rec.edits.push(structuredClone(message));
  }

  async replace(ref: MessageRef, message: OutgoingMessage): Promise<MessageRef> {
    const rec = this.posts.find((p) => p.ref.messageId === ref.messageId && sameThread(p.ref.thread, ref.thread));
    // A message that is gone carries no files: the removal is done.
    if (!rec) return ref;
    rec.edits.push(structuredClone({ text: message.text, ...(message.buttons ? { buttons: message.buttons } : {}) }));
    rec.files = structuredClone(message.attachments ?? []);
    rec.replaced = (rec.replaced ?? 0) + 1;
    return ref;
  }

  /** Names the thread (clipped to 100 characters, the strictest platform's limit) and shows `header` on its root. */
  async retitle(thread: ThreadRef, heading: ThreadHeading): Promise<void> {
    if (this.failNextRetitle) {
      this.failNextRetitle = false;
      throw new Error('platform said no');
    }
    const known = this.threads.find((t) => sameThread(t, thread));
    if (!known) throw new DailiesError('not_found', `There is no thread ${thread.threadId} in channel ${thread.channelId}.`);
    this.headings.push({ thread: { ...known }, heading: structuredClone(heading) });
    this.titles.set(known.threadId, clip(heading.title, 100));
    const root = this.postsIn(known)[0];
    if (root && heading.header !== undefined) root.edits.push({ text: heading.header });
  }

  /** What people see now: text and buttons of the last edit; attachments stay as posted (edits do not change them) until `replace` swaps them. */
  latest(rec: RecordedMessage): OutgoingMessage {
    const edit = rec.edits.at(-1);
    if (!edit) return rec.message;
    const { attachments: _ignored, ...shown } = edit;
    const files = rec.files ?? rec.message.attachments;
    return files?.length ? { ...shown, attachments: files } : shown;
  }

  postsIn(thread: ThreadRef): RecordedMessage[] {
    return this.posts.filter((p) => p.ref.thread.threadId === thread.threadId && p.ref.thread.channelId === thread.channelId);
  }

  find(predicate: (text: string) => boolean): RecordedMessage[] {
    return this.posts.filter((p) => predicate(p.message.text));
  }
}

function sameThread(a: ThreadRef, b: ThreadRef): boolean {
  return a.platform === b.platform && a.channelId === b.channelId && a.threadId === b.threadId;
}
