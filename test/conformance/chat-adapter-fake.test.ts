import type { ChatUser, EventOutcome, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import type { ArtifactStore } from '../../src/core/ports/artifact-store.ts';
import { FakeAdapter } from '../core/fakes/fake-adapter.ts';
import { tempArtifactStore } from '../storage/temp-store.ts';
import { runChatAdapterConformance, type ActorView, type ChatPlatformDriver, type DeliveryOptions, type PlatformMessage } from './chat-adapter.conformance.ts';

/**
 * Plays the platform around FakeAdapter, the adapter the core tests run on: events go in through
 * `deliver` (the adapters' callCore), and a thread reads as its recorded posts with their edits.
 */
class FakePlatformDriver implements ChatPlatformDriver {
  private n = 0;
  constructor(
    private readonly adapter: FakeAdapter,
    private readonly artifacts: ArtifactStore,
  ) {}

  private user(handle: string): ChatUser {
    return { id: `u-${handle.toLowerCase()}`, name: handle };
  }

  private base(user: string, delivery: DeliveryOptions) {
    return { id: delivery.id ?? `delivery-${++this.n}`, platform: this.adapter.platform, user: this.user(user), receivedAt: Date.now() };
  }

  private async view(outcome: Promise<EventOutcome>): Promise<ActorView> {
    const o = await outcome;
    return { ...(o.ephemeral && { ephemeral: o.ephemeral }), ...(o.error && { error: o.error }), ...(o.thread && { thread: o.thread.threadId }) };
  }

  sendCommand(channel: string, user: string, name: string, options: Record<string, unknown>, delivery: DeliveryOptions & { thread?: ThreadRef } = {}) {
    return this.view(this.adapter.deliver({ ...this.base(user, delivery), kind: 'command', channelId: channel, name, options, ...(delivery.thread && { thread: delivery.thread }) }));
  }

  sendReply(thread: ThreadRef, user: string, text: string, delivery: DeliveryOptions = {}) {
    return this.view(this.adapter.deliver({ ...this.base(user, delivery), kind: 'reply', thread, text }));
  }

  click(thread: ThreadRef, user: string, action: string, delivery: DeliveryOptions = {}) {
    // People can click only buttons that are shown.
    const shown = this.adapter.postsIn(thread).some((p) => this.adapter.latest(p).buttons?.flat().some((b) => b.action === action));
    if (!shown) throw new Error(`no button ${action} in thread ${thread.threadId}`);
    return this.view(this.adapter.deliver({ ...this.base(user, delivery), kind: 'action', thread, action }));
  }

  async readTitle(thread: ThreadRef): Promise<string | null> {
    return this.adapter.titles.get(thread.threadId) ?? null;
  }

  async readThread(thread: ThreadRef): Promise<PlatformMessage[]> {
    const posts = this.adapter.postsIn(thread);
    if (posts.length === 0) throw new Error(`thread ${thread.threadId} does not exist`);
    return posts.map((rec) => {
      const shown = this.adapter.latest(rec);
      return {
        id: rec.ref.messageId,
        text: shown.text,
        buttons: (shown.buttons ?? []).map((row) => row.map((b) => ({ action: b.action, label: b.label, ...(b.disabled !== undefined && { disabled: b.disabled }) }))),
        attachments: (shown.attachments ?? []).map((a) => ({ filename: a.filename, contentType: a.contentType, bytes: a.bytes, read: async () => {
          const chunks: Buffer[] = [];
          for await (const chunk of await this.artifacts.open(a.key)) chunks.push(Buffer.from(chunk));
          return new Uint8Array(Buffer.concat(chunks));
        } })),
      };
    });
  }
}

runChatAdapterConformance('FakeAdapter (the core tests\' adapter)', async () => {
  const adapter = new FakeAdapter('local');
  const { store, cleanup } = await tempArtifactStore();
  return { adapter, driver: new FakePlatformDriver(adapter, store), channel: 'general', users: ['Ana', 'Ben'], artifacts: store, filesLiveInArtifactStore: true, cleanup };
});
