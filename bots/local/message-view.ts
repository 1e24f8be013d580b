import type { Button } from '../../src/core/ports/chat-adapter.ts';
import { artifactUrl } from './artifact-files.ts';
import type { StoredAttachment, StoredChannel, StoredMessage, StoredThread, StreamEvent, StreamName } from './local-store.ts';

export interface AttachmentView {
  kind: 'preview' | 'final';
  url: string;
  contentType: string;
  filename: string;
  bytes: number;
  /** Present (true) when the file carries signed Content Credentials: GET /api/credentials/<key> reads them. */
  signed?: true;
}

export function attachmentView(a: StoredAttachment): AttachmentView {
  const view: AttachmentView = { kind: a.kind, url: artifactUrl(a.key), contentType: a.contentType, filename: a.filename, bytes: a.bytes };
  if (a.signed === true) view.signed = true;
  return view;
}

/** The JSON the API and the event stream show for a message; the page renders exactly this. */
export interface MessageView {
  id: string;
  channel: string;
  thread: string | null;
  /** A session root: shown in its channel and first in its thread. */
  root: boolean;
  author: { id: string; name: string; bot: boolean };
  text: string;
  attachments: AttachmentView[];
  buttons: Button[][];
  invocation: { user: string; command: string } | null;
  createdAt: number;
  editedAt: number | null;
  /** Number of edits so far; lets a client drop an update older than what it shows. */
  rev: number;
  /** Channel listings only: messages in the root's thread after the root. */
  replies?: number;
}

export function messageView(m: StoredMessage, replies?: number): MessageView {
  const view: MessageView = {
    id: m.id,
    channel: m.channelId,
    thread: m.threadId,
    root: m.root,
    author: m.author,
    text: m.text,
    attachments: m.attachments.map(attachmentView),
    buttons: m.buttons,
    invocation: m.invocation ? { user: m.invocation.userName, command: m.invocation.command } : null,
    createdAt: m.createdAt,
    editedAt: m.editedAt,
    rev: m.rev,
  };
  if (replies !== undefined) view.replies = replies;
  return view;
}

export function threadView(t: StoredThread) {
  return {
    id: t.id,
    channel: t.channelId,
    title: t.title,
    rootMessage: t.rootMessageId,
    createdAt: t.createdAt,
    createdBy: t.createdBy.name,
    ref: { platform: 'local' as const, channelId: t.channelId, threadId: t.id },
  };
}

export function channelView(c: StoredChannel) {
  return { id: c.id, name: c.name, createdAt: c.createdAt };
}

/** The SSE payload: the stored event with messages in their API shape. */
export function eventView(event: StreamEvent) {
  if (event.type === 'thread.updated') return { seq: event.seq, type: event.type, thread: event.thread };
  return { seq: event.seq, type: event.type, message: messageView(event.message) };
}

/** How the API names a stream: "channel:general", "thread:t_abc". */
export function publicStreamName(name: StreamName): string {
  return name.startsWith('c:') ? `channel:${name.slice(2)}` : `thread:${name.slice(2)}`;
}
