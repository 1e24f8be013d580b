import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import type { ActorView, ChatPlatformDriver, DeliveryOptions, PlatformMessage } from '../conformance/chat-adapter.conformance.ts';

/** Plays the local chat's platform side through its real HTTP API, as the page does. */
export class LocalHttpDriver implements ChatPlatformDriver {
  constructor(private readonly baseUrl: string) {}

  private async post(path: string, body: Record<string, unknown>): Promise<ActorView> {
    const res = await fetch(this.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as { ephemeral?: string; error?: { code: string; message: string }; thread?: string };
    const view: ActorView = {};
    if (json.ephemeral) view.ephemeral = json.ephemeral;
    if (json.error) view.error = json.error;
    if (json.thread) view.thread = json.thread;
    return view;
  }

  sendCommand(channel: string, user: string, name: string, options: Record<string, unknown>, delivery: DeliveryOptions & { thread?: ThreadRef } = {}) {
    return this.post('/api/commands', { channel, user, name, options, ...(delivery.id && { id: delivery.id }), ...(delivery.thread && { thread: delivery.thread.threadId }) });
  }

  sendReply(thread: ThreadRef, user: string, text: string, delivery: DeliveryOptions = {}) {
    return this.post(`/api/threads/${thread.threadId}/messages`, { user, text, ...(delivery.id && { id: delivery.id }) });
  }

  click(thread: ThreadRef, user: string, action: string, delivery: DeliveryOptions = {}) {
    return this.post(`/api/threads/${thread.threadId}/actions`, { user, key: action, ...(delivery.id && { id: delivery.id }) });
  }

  async readTitle(thread: ThreadRef): Promise<string | null> {
    const res = await fetch(`${this.baseUrl}/api/threads/${thread.threadId}?limit=1`);
    if (!res.ok) throw new Error(`reading thread ${thread.threadId} answered ${res.status}`);
    return ((await res.json()) as { thread: { title: string } }).thread.title;
  }

  async readThread(thread: ThreadRef): Promise<PlatformMessage[]> {
    const res = await fetch(`${this.baseUrl}/api/threads/${thread.threadId}`);
    if (!res.ok) throw new Error(`reading thread ${thread.threadId} answered ${res.status}`);
    const body = (await res.json()) as { messages: { id: string; text: string; attachments: { url: string; filename: string; contentType: string; bytes: number }[]; buttons: PlatformMessage['buttons'] }[] };
    return body.messages.map((m) => ({
      id: m.id,
      text: m.text,
      buttons: m.buttons,
      attachments: m.attachments.map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        bytes: a.bytes,
        read: async () => {
          const file = await fetch(this.baseUrl + a.url);
          if (!file.ok) throw new Error(`${a.url} answered ${file.status}`);
          return new Uint8Array(await file.arrayBuffer());
        },
      })),
    }));
  }
}
