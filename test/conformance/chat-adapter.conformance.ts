import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ActionEvent,
  ChatAdapter,
  ChatEvent,
  CommandEvent,
  EventOutcome,
  OutgoingAttachment,
  ReplyEvent,
  ThreadRef,
} from '../../src/core/ports/chat-adapter.ts';
import type { ArtifactStore } from '../../src/core/ports/artifact-store.ts';

/**
 * The shared conformance suite of the chat seam. Every adapter runs it through a harness: the
 * adapter under test plus a driver that plays the platform's side (a person typing a command,
 * replying in a thread, clicking a button, and looking at the thread).
 *
 * Decisions this suite pins down:
 * - Adapters pass the platform's delivery id through as `event.id` and do not dedupe; the core
 *   dedupes (SessionStore.claimEvent). A redelivered event reaches the handler with the SAME id.
 * - `ThreadRef` is plain data: after a JSON round trip it still addresses the thread.
 * - Ephemeral and error outcomes are shown to the acting user only, never posted in the thread.
 * - A handler that throws does not take the adapter down; the actor is told something failed.
 * - Edits change text and buttons; attachments stay as posted. Only `replace` removes them, all
 *   of them, from the platform too (a moderator's removal), and doing it twice is harmless.
 * - Posts go only to threads that exist; attachments over `maxUploadBytesFor` are refused.
 * - `retitle` names the thread where the platform names threads (the driver's `readTitle`; null on
 *   Slack), clipped to its limit, and rewrites the root's text; the newest heading wins.
 *
 * Every check applies to every adapter, FakeAdapter (the core tests' in-memory adapter,
 * test/conformance/chat-adapter-fake.test.ts) included: none needs a network, so there are no
 * capability flags. Add one here, named and documented, before letting an adapter skip a check.
 */

export interface PlatformAttachment {
  filename: string;
  contentType?: string;
  bytes?: number;
  /** The file's content as the platform serves it, when the driver can fetch it. */
  read?: () => Promise<Uint8Array>;
}

/** A message as people see it on the platform. */
export interface PlatformMessage {
  /** Equals the `MessageRef.messageId` the adapter returned for it. */
  id: string;
  text: string;
  attachments: PlatformAttachment[];
  buttons: { action: string; label: string; disabled?: boolean }[][];
}

/** What the acting user saw in answer to their event (for Discord/Slack: the ephemeral response). */
export interface ActorView {
  ephemeral?: string;
  error?: { code?: string; message: string };
  /** The thread the platform pointed the actor to, when it does. */
  thread?: string;
}

export interface DeliveryOptions {
  /** The platform's delivery id; sending twice with the same id simulates a redelivery. */
  id?: string;
}

export interface ChatPlatformDriver {
  /** Resolves once the actor would see the response (after a deferral: the follow-up). */
  sendCommand(channel: string, user: string, name: string, options: Record<string, unknown>, delivery?: DeliveryOptions & { thread?: ThreadRef }): Promise<ActorView>;
  sendReply(thread: ThreadRef, user: string, text: string, delivery?: DeliveryOptions): Promise<ActorView>;
  /** Clicks the button with this action key in the thread. */
  click(thread: ThreadRef, user: string, action: string, delivery?: DeliveryOptions): Promise<ActorView>;
  /** The thread as everyone sees it, oldest first, with the session root first. */
  readThread(thread: ThreadRef): Promise<PlatformMessage[]>;
  /** The thread's name as the platform shows it; null where threads have none (Slack). */
  readTitle(thread: ThreadRef): Promise<string | null>;
}

export interface ChatAdapterHarness {
  /** Not started yet: the suite starts it with its scripted handler. */
  adapter: ChatAdapter;
  driver: ChatPlatformDriver;
  /** A channel where commands may be typed. */
  channel: string;
  /** Two different people on the platform (driver-side handles). */
  users: [string, string];
  /** The artifact store the adapter was built with: attachments name keys in it (the attachment checks need it). */
  artifacts?: ArtifactStore;
  /** The display name the adapter reports for a driver user (default: the handle itself). */
  displayName?(user: string): string;
  /**
   * The platform shows files straight from `artifacts` (the web chat, FakeAdapter) rather than
   * keeping copies of its own (Discord, Slack): `replace` then drops them from the message, and
   * deleting them is the core's part, so the removal check deletes them itself before reading.
   */
  filesLiveInArtifactStore?: boolean;
  /** A driver-side handle of a person the platform makes a moderator (`canModerate`). */
  moderator?: string;
  cleanup(): Promise<void>;
}

type Script = (event: ChatEvent) => Promise<EventOutcome> | EventOutcome;

/** Polls until `check` stops throwing; platforms may call the handler after acknowledging. */
async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() - started > timeoutMs) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Runs the suite on one adapter (test/local, test/discord, test/slack and test/conformance call it). */
export function runChatAdapterConformance(name: string, makeHarness: () => Promise<ChatAdapterHarness>): void {
  describe(`ChatAdapter conformance: ${name}`, () => {
    let h: ChatAdapterHarness;
    let events: ChatEvent[];
    let script: Script;
    let dir: string;
    const ana = () => h.users[0];
    const ben = () => h.users[1];
    const display = (user: string) => h.displayName?.(user) ?? user;

    beforeEach(async () => {
      h = await makeHarness();
      events = [];
      script = () => ({});
      dir = await mkdtemp(join(tmpdir(), 'dailies-conformance-'));
      await h.adapter.start(async (event) => {
        events.push(event);
        return script(event);
      });
    });

    afterEach(async () => {
      await h.adapter.stop();
      await h.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    const commands = () => events.filter((e): e is CommandEvent => e.kind === 'command');
    const replies = () => events.filter((e): e is ReplyEvent => e.kind === 'reply');
    const actions = () => events.filter((e): e is ActionEvent => e.kind === 'action');

    /** Opens a session thread the way the core does: from inside the command's handler. */
    async function openSession(text = 'Session: a red circle', buttons = [[{ action: 'vote:s1:1:0', label: 'Vote 1' }]]) {
      let opened: Awaited<ReturnType<ChatAdapter['startThread']>> | undefined;
      script = async (event) => {
        if (event.kind !== 'command') return {};
        opened = await h.adapter.startThread(event, { text, buttons });
        return { thread: opened.thread };
      };
      await h.driver.sendCommand(h.channel, ana(), 'video', { prompt: 'a red circle' });
      const result = await eventually(() => {
        if (!opened) throw new Error('startThread was not called yet');
        return opened;
      });
      script = () => ({});
      return result;
    }

    async function file(filename: string, bytes: number): Promise<{ key: string; data: Buffer }> {
      const data = randomBytes(bytes);
      const key = `renders/conformance-${randomBytes(4).toString('hex')}/${filename}`;
      if (!h.artifacts) throw new Error('this harness gives no artifact store; attachments name keys in one');
      await h.artifacts.putBuffer(key, data, 'application/octet-stream');
      return { key, data };
    }

    it('delivers a command with its options, user and channel', async () => {
      await h.driver.sendCommand(h.channel, ana(), 'video', { prompt: 'a red circle', takes: 2 });
      const [event] = await eventually(() => {
        expect(commands()).toHaveLength(1);
        return commands();
      });
      expect(event!.platform).toBe(h.adapter.platform);
      expect(event!.name).toBe('video');
      expect(event!.options).toMatchObject({ prompt: 'a red circle', takes: 2 });
      expect(event!.user.name).toBe(display(ana()));
      expect(event!.user.id).toEqual(expect.any(String));
      expect(event!.channelId).toEqual(expect.any(String));
      expect(event!.id).toEqual(expect.any(String));
      expect(event!.id.length).toBeGreaterThan(0);
      expect(event!.receivedAt).toEqual(expect.any(Number));
    });

    it('gives each person a stable user id of their own', async () => {
      await h.driver.sendCommand(h.channel, ana(), 'video', { prompt: 'one' });
      await h.driver.sendCommand(h.channel, ben(), 'video', { prompt: 'two' });
      await h.driver.sendCommand(h.channel, ana(), 'video', { prompt: 'three' });
      const [a1, b, a2] = await eventually(() => {
        expect(commands()).toHaveLength(3);
        return commands();
      });
      expect(a1!.user.id).toBe(a2!.user.id);
      expect(a1!.user.id).not.toBe(b!.user.id);
    });

    it('opens a thread on the root message with a plain-data ThreadRef', async () => {
      const { thread, message } = await openSession('Session: a red circle');
      expect(thread).toEqual({ platform: h.adapter.platform, channelId: expect.any(String), threadId: expect.any(String) });
      expect(message.thread).toEqual(thread);
      const shown = await h.driver.readThread(thread);
      expect(shown[0]?.id).toBe(message.messageId);
      expect(shown[0]?.text).toContain('a red circle');
      expect(shown[0]?.buttons.flat().map((b) => b.action)).toEqual(['vote:s1:1:0']);
    });

    it('round-trips posts and edits with attachments and buttons', async () => {
      const { thread } = await openSession();
      const preview = await file('preview.gif', 2048);
      const final = await file('final.mp4', 4096);
      const attachments: OutgoingAttachment[] = [
        { kind: 'preview', key: preview.key, filename: 'preview.gif', contentType: 'image/gif', bytes: preview.data.length },
        { kind: 'final', key: final.key, filename: 'final.mp4', contentType: 'video/mp4', bytes: final.data.length },
      ];
      const buttons = [
        [
          { action: 'vote:s1:1:0', label: 'Vote 1', style: 'primary' as const },
          { action: 'finalize:s1:j1:0', label: 'Finalize', style: 'success' as const },
        ],
        [{ action: 'cancel:j1', label: 'Cancel', style: 'danger' as const }],
      ];
      const ref = await h.adapter.post(thread, { text: 'Take 1 of v1', attachments, buttons });
      expect(ref.thread).toEqual(thread);

      let shown = (await h.driver.readThread(thread)).find((m) => m.id === ref.messageId);
      expect(shown?.text).toContain('Take 1 of v1');
      expect(shown?.buttons.map((row) => row.map((b) => [b.action, b.label]))).toEqual([
        [
          ['vote:s1:1:0', 'Vote 1'],
          ['finalize:s1:j1:0', 'Finalize'],
        ],
        [['cancel:j1', 'Cancel']],
      ]);
      expect(shown?.attachments.map((a) => a.filename)).toEqual(['preview.gif', 'final.mp4']);
      for (const [i, a] of (shown?.attachments ?? []).entries()) {
        if (a.bytes !== undefined) expect(a.bytes).toBe(attachments[i]!.bytes);
        if (a.read) expect(Buffer.from(await a.read()).equals(i === 0 ? preview.data : final.data)).toBe(true);
      }

      await h.adapter.edit(ref, { text: 'Take 1 of v1 · 1 vote', buttons: [[{ action: 'vote:s1:1:0', label: 'Vote 1 (1)', disabled: true }]] });
      shown = (await h.driver.readThread(thread)).find((m) => m.id === ref.messageId);
      expect(shown?.text).toContain('1 vote');
      expect(shown?.buttons).toEqual([[expect.objectContaining({ action: 'vote:s1:1:0', label: 'Vote 1 (1)', disabled: true })]]);
      expect(shown?.attachments.map((a) => a.filename)).toEqual(['preview.gif', 'final.mp4']);

      const ids = (await h.driver.readThread(thread)).map((m) => m.id);
      expect(ids.indexOf(ref.messageId)).toBe(ids.length - 1);
    });

    it('replaces a message by a note and removes its files from the platform, and again after a JSON round trip', async () => {
      const { thread } = await openSession();
      const preview = await file('take-preview.gif', 1024);
      const final = await file('take.mp4', 3072);
      const attachments: OutgoingAttachment[] = [
        { kind: 'preview', key: preview.key, filename: 'take-preview.gif', contentType: 'image/gif', bytes: preview.data.length },
        { kind: 'final', key: final.key, filename: 'take.mp4', contentType: 'video/mp4', bytes: final.data.length },
      ];
      const ref = await h.adapter.post(thread, { text: 'Take 1 of v2 · seed 7', attachments, buttons: [[{ action: 'remove:s1:j1:0', label: 'Remove', style: 'danger' }]] });
      const after = await h.adapter.post(thread, { text: 'Votes for v2' });
      const before = (await h.driver.readThread(thread)).find((m) => m.id === ref.messageId);
      expect(before?.attachments.map((a) => a.filename)).toEqual(['take-preview.gif', 'take.mp4']);
      const reads = (before?.attachments ?? []).flatMap((a) => (a.read ? [a.read] : []));

      await h.adapter.replace(ref, { text: 'Take 1 of v2 was removed by Mo.' });
      let thread2 = await h.driver.readThread(thread);
      const shown = thread2.find((m) => m.id === ref.messageId);
      expect(shown?.text).toContain('Take 1 of v2 was removed by Mo.');
      expect(shown?.attachments).toEqual([]);
      expect(shown?.buttons).toEqual([]);
      // The note keeps the message's place: it is still before what was posted after it.
      expect(thread2.findIndex((m) => m.id === ref.messageId)).toBeLessThan(thread2.findIndex((m) => m.id === after.messageId));
      // The platform's copy is gone, not just hidden: reading a file as it was linked yields
      // nothing. Where the platform shows the artifact store's own files, deleting them is the
      // core's part (ArtifactStore.delete), done here as the core does it.
      if (h.filesLiveInArtifactStore) await Promise.all([preview.key, final.key].map((key) => h.artifacts!.delete(key)));
      for (const read of reads) expect(await read().then((bytes) => bytes.length, () => 0)).toBe(0);
      // A second removal (a retried delivery, a restarted bot reading the stored ref) is fine.
      await h.adapter.replace(JSON.parse(JSON.stringify(ref)), { text: 'Take 1 of v2 was removed by Mo.' });
      thread2 = await h.driver.readThread(thread);
      expect(thread2.filter((m) => m.text.includes('was removed by Mo'))).toHaveLength(1);
      expect(thread2.find((m) => m.id === after.messageId)?.text).toContain('Votes for v2');
    });

    it('swaps a message\'s files for new ones (a progress message\'s newest preview): the text stays in place, the old files go', async () => {
      const { thread } = await openSession();
      const first = await file('v1-step4-take1.gif', 1024);
      const second = await file('v1-step8-take1.gif', 2048);
      const gif = (f: { key: string; data: Buffer }, filename: string): OutgoingAttachment => ({ kind: 'preview', key: f.key, filename, contentType: 'image/gif', bytes: f.data.length });
      const ref = await h.adapter.post(thread, { text: '2 takes · v1\nstep 4/12\nPreview at step 4/12', attachments: [gif(first, 'v1-step4-take1.gif')] });
      const after = await h.adapter.post(thread, { text: 'someone replied' });
      const reads = ((await h.driver.readThread(thread)).find((m) => m.id === ref.messageId)?.attachments ?? []).flatMap((a) => (a.read ? [a.read] : []));

      const next = await h.adapter.replace(ref, { text: '2 takes · v1\nstep 8/12\nPreview at step 8/12', attachments: [gif(second, 'v1-step8-take1.gif')] });
      let shown = await h.driver.readThread(thread);
      const message = shown.find((m) => m.id === ref.messageId);
      expect(message?.text).toContain('Preview at step 8/12');
      expect(shown.findIndex((m) => m.id === ref.messageId)).toBeLessThan(shown.findIndex((m) => m.id === after.messageId));
      const files = shown.flatMap((m) => m.attachments.map((a) => a.filename));
      expect(files).toEqual(['v1-step8-take1.gif']);
      // Where the platform keeps copies of its own, the old one is gone from it, not just hidden.
      if (!h.filesLiveInArtifactStore) for (const read of reads) expect(await read().then((bytes) => bytes.length, () => 0)).toBe(0);

      // The returned ref is the one to keep: the job's end drops the preview through it, after a JSON round trip too.
      await h.adapter.replace(JSON.parse(JSON.stringify(next)), { text: '2 takes · v1\nDone in 9 s.' });
      shown = await h.driver.readThread(thread);
      expect(shown.find((m) => m.id === ref.messageId)?.text).toContain('Done in 9 s.');
      expect(shown.flatMap((m) => m.attachments)).toEqual([]);
    });

    it('keeps thread messages in posting order', async () => {
      const { thread } = await openSession();
      const refs = [];
      for (let i = 1; i <= 5; i++) refs.push(await h.adapter.post(thread, { text: `message ${i}` }));
      const shown = await h.driver.readThread(thread);
      expect(shown.slice(1).map((m) => m.id)).toEqual(refs.map((r) => r.messageId));
    });

    it('delivers replies in the thread as ReplyEvents with the same ThreadRef', async () => {
      const { thread } = await openSession();
      await h.driver.sendReply(thread, ben(), 'make it blue');
      const [reply] = await eventually(() => {
        expect(replies()).toHaveLength(1);
        return replies();
      });
      expect(reply!.thread).toEqual(thread);
      expect(reply!.text).toContain('make it blue');
      expect(reply!.user.name).toBe(display(ben()));
      expect(reply!.platform).toBe(h.adapter.platform);
    });

    it('delivers button clicks as ActionEvents with the action key', async () => {
      const { thread } = await openSession();
      const ref = await h.adapter.post(thread, { text: 'Take 2', buttons: [[{ action: 'vote:s1:1:1', label: 'Vote 2' }]] });
      expect(ref.messageId).toEqual(expect.any(String));
      await h.driver.click(thread, ben(), 'vote:s1:1:1');
      const [action] = await eventually(() => {
        expect(actions()).toHaveLength(1);
        return actions();
      });
      expect(action!.action).toBe('vote:s1:1:1');
      expect(action!.thread).toEqual(thread);
      expect(action!.user.name).toBe(display(ben()));
    });

    it('passes a redelivered event to the handler with the same id (the core dedupes)', async () => {
      const { thread } = await openSession();
      const before = events.length;
      await h.driver.click(thread, ben(), 'vote:s1:1:0', { id: 'delivery-1' });
      await h.driver.click(thread, ben(), 'vote:s1:1:0', { id: 'delivery-1' });
      await h.driver.click(thread, ben(), 'vote:s1:1:0', { id: 'delivery-2' });
      const [first, second, third] = await eventually(() => {
        expect(events.length - before).toBe(3);
        return events.slice(before);
      });
      expect(second!.id).toBe(first!.id);
      expect(third!.id).not.toBe(first!.id);

      await h.driver.sendCommand(h.channel, ana(), 'video', { prompt: 'again' }, { id: 'delivery-3' });
      await h.driver.sendCommand(h.channel, ana(), 'video', { prompt: 'again' }, { id: 'delivery-3' });
      const [c1, c2] = await eventually(() => {
        expect(commands().length).toBeGreaterThanOrEqual(3);
        return commands().slice(-2);
      });
      expect(c2!.id).toBe(c1!.id);
    });

    it('accepts a ThreadRef after a JSON round trip', async () => {
      const { thread, message } = await openSession();
      const stored = JSON.parse(JSON.stringify(thread)) as ThreadRef;
      expect(stored).toEqual(thread);
      const ref = await h.adapter.post(stored, { text: 'posted through a stored ref' });
      await h.adapter.edit(JSON.parse(JSON.stringify(message)), { text: 'root edited through a stored ref' });
      const shown = await h.driver.readThread(thread);
      expect(shown.map((m) => m.id)).toContain(ref.messageId);
      expect(shown[0]?.text).toContain('root edited through a stored ref');
    });

    it('shows ephemeral and error outcomes only to the acting user', async () => {
      const { thread } = await openSession();
      script = (event) => (event.kind === 'action' ? { ephemeral: 'Only Ben sees this vote note.' } : { error: { code: 'policy_refused', message: 'That prompt is not allowed here.' } });
      const clicked = await h.driver.click(thread, ben(), 'vote:s1:1:0');
      expect(clicked.ephemeral).toContain('Only Ben sees this vote note.');
      const replied = await h.driver.sendReply(thread, ana(), 'something refused');
      expect(replied.error?.message).toContain('That prompt is not allowed here.');
      const shown = (await h.driver.readThread(thread)).map((m) => m.text).join('\n');
      expect(shown).not.toContain('Only Ben sees this vote note.');
      expect(shown).not.toContain('That prompt is not allowed here.');
    });

    it('survives a handler that throws', async () => {
      const { thread } = await openSession();
      script = () => {
        throw new Error('core exploded');
      };
      const view = await h.driver.sendReply(thread, ana(), 'this will fail');
      expect(view.error?.message ?? view.ephemeral).toBeTruthy();
      expect(JSON.stringify(view)).not.toContain('core exploded');
      script = () => ({ ephemeral: 'fine again' });
      const next = await h.driver.click(thread, ben(), 'vote:s1:1:0');
      expect(next.ephemeral).toContain('fine again');
      const ref = await h.adapter.post(thread, { text: 'still posting' });
      expect((await h.driver.readThread(thread)).map((m) => m.id)).toContain(ref.messageId);
    });

    it('shows the current state on the thread: its name and its root message, the newest heading winning', async () => {
      const { thread, message } = await openSession('Ana started a video: "a red circle"', []);
      const untitled = await h.driver.readTitle(thread);
      // Two headings in a row (Discord allows two renames per thread in ten minutes): the newest shows.
      await h.adapter.retitle(thread, { title: 'v2 · a blue circle', header: 'Ana started a video: "a red circle"\nNow at v2 by Ben: "a blue circle"' });
      const long = `v3 · a blue circle ${'moving slowly up '.repeat(12)}`;
      await h.adapter.retitle(JSON.parse(JSON.stringify(thread)), { title: long, header: 'Ana started a video: "a red circle"\nNow at v3 by Ben: "a blue circle moving"' });
      const root = await eventually(async () => {
        const shown = (await h.driver.readThread(thread))[0];
        expect(shown?.text).toContain('Now at v3 by Ben');
        return shown;
      });
      expect(root?.id).toBe(message.messageId);
      expect(root?.text).toContain('Ana started a video');
      if (untitled === null) expect(await h.driver.readTitle(thread)).toBeNull();
      else {
        // The newest name, clipped to the platform's limit (every platform allows 100 characters).
        const title = await eventually(async () => {
          const shown = await h.driver.readTitle(thread);
          expect(shown).toMatch(/^v3 · a blue circle moving slowly up/);
          return shown!;
        });
        expect([...title].length).toBeLessThanOrEqual(100);
        expect(title.endsWith('…')).toBe(true);
      }
      // A heading without a header leaves the root as it is (a storyboard's plan stays).
      await h.adapter.retitle(thread, { title: long });
      expect((await h.driver.readThread(thread))[0]?.text).toContain('Now at v3 by Ben');
    });

    it('refuses posts to a thread that does not exist', async () => {
      const { thread } = await openSession();
      await expect(h.adapter.post({ ...thread, threadId: `${thread.threadId}0000` }, { text: 'lost' })).rejects.toThrow();
      await expect(h.adapter.edit({ thread, messageId: `${thread.threadId}missing` }, { text: 'lost' })).rejects.toThrow();
    });

    it('refuses attachments over the thread\'s upload limit', async () => {
      const { thread } = await openSession();
      const limit = h.adapter.maxUploadBytesFor(thread);
      expect(limit).toBeGreaterThan(0);
      const path = join(dir, 'huge.mp4');
      await writeFile(path, '');
      await truncate(path, limit + 1);
      const { key } = await h.artifacts!.putFile('renders/conformance/huge.mp4', path, 'video/mp4');
      const attachment: OutgoingAttachment = { kind: 'final', key, filename: 'huge.mp4', contentType: 'video/mp4', bytes: limit + 1 };
      await expect(h.adapter.post(thread, { text: 'too big', attachments: [attachment] })).rejects.toThrow();
    });
  });
}

/** The suite's earlier name, kept for the runners that call it so. */
export const describeChatAdapterConformance = runChatAdapterConformance;
