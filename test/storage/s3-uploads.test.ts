import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactStore } from '../../src/core/ports/artifact-store.ts';
import type { CommandEvent } from '../../src/core/ports/chat-adapter.ts';
import { startRig } from '../discord/discord-harness.ts';
import { startSlackHarness } from '../slack/slack-harness.ts';
import { startS3Server, type TestS3 } from './s3-server.ts';

/**
 * Discord and Slack uploads read the clip from an S3 bucket by key (OutgoingAttachment.key), so a
 * bot on a machine without the workers' disk uploads what they stored. Real discord.js and Bolt
 * against their stand-ins; the bucket is an S3 API server started here.
 */

let s3: TestS3;
let store: ArtifactStore;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  s3 = await startS3Server();
  ({ store, cleanup } = await s3.store());
});
afterAll(async () => {
  await cleanup?.();
  await s3?.close();
});

describe('uploads from an S3 bucket', () => {
  it('Slack receives the stored bytes', async () => {
    const data = randomBytes(300_000);
    const ref = await store.putBuffer('renders/s3-slack/take-1.mp4', data, 'video/mp4');
    const h = await startSlackHarness(async () => ({}), { artifacts: store });
    try {
      const origin: CommandEvent = { kind: 'command', id: `T${randomBytes(6).toString('hex')}`, platform: 'slack', user: { id: 'U100', name: 'alice' }, receivedAt: Date.now(), channelId: 'C100', name: 'video', options: {} };
      const { thread } = await h.adapter.startThread(origin, { text: 'Session' });
      await h.adapter.post(thread, { text: 'Take 1', attachments: [{ kind: 'final', key: ref.key, filename: 'take-1.mp4', contentType: 'video/mp4', bytes: ref.bytes }] });
      const complete = h.standIn.calls.find((c) => c.method === 'files.completeUploadExternal')!;
      const fileId = String((complete.args.files as { id: string }[])[0]!.id);
      expect(h.standIn.uploads.get(fileId)!.bytes!.equals(data)).toBe(true);
      // A key with nothing stored is refused before anything is sent.
      const before = h.standIn.calls.length;
      await expect(h.adapter.post(thread, { text: 'gone', attachments: [{ kind: 'final', key: 'renders/s3-slack/gone.mp4', filename: 'gone.mp4', contentType: 'video/mp4', bytes: 1 }] })).rejects.toMatchObject({ code: 'not_found' });
      expect(h.standIn.calls.length).toBe(before);
    } finally {
      await h.close();
    }
  });

  it('Discord receives the stored file', async () => {
    const ref = await store.putBuffer('renders/s3-discord/take-1.mp4', randomBytes(200_000), 'video/mp4');
    const rig = await startRig({ adapter: { artifacts: store } });
    try {
      const { id } = rig.standIn.command('video', { prompt: 'waves at dusk' });
      const { outcome } = await rig.waitSettled(id);
      const posted = await rig.adapter.post(outcome!.thread!, { text: 'Take 1', attachments: [{ kind: 'final', key: ref.key, filename: 'take-1.mp4', contentType: 'video/mp4', bytes: ref.bytes }] });
      expect(rig.standIn.messages.get(posted.messageId)!.attachments[0]).toMatchObject({ filename: 'take-1.mp4', size: 200_000 });
    } finally {
      await rig.close();
    }
  });
});
