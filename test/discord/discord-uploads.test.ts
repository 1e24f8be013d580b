import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { CommandEvent, OutgoingAttachment } from '../../src/core/ports/chat-adapter.ts';
import { checkImageAttachment, isDiscordCdnUrl } from '../../bots/discord/incoming-attachments.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { startRig, type DiscordRig } from './discord-harness.ts';

const MiB = 1024 * 1024;
let dir: string;
let rig: DiscordRig | undefined;
/** Where the clips are stored; the adapter reads them from here by key. */
let store: FsArtifactStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dailies-discord-'));
  store = new FsArtifactStore({ root: dir });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function clip(name: string, bytes: number): Promise<OutgoingAttachment> {
  // An MP4 'ftyp' box up front, as a real encode would have.
  const data = Buffer.alloc(bytes);
  Buffer.from('000000186674797069736f6d0000020069736f6d', 'hex').copy(data);
  const { key } = await store.putBuffer(`renders/uploads/${name}`, data, 'video/mp4');
  return { kind: 'preview', key, filename: name, contentType: 'video/mp4', bytes };
}

describe('uploads', () => {
  test('a clip within the limit is uploaded as multipart (payload_json + files[0]) into the thread', async () => {
    rig = await startRig({ adapter: { artifacts: store } });
    const { id } = rig.standIn.command('video', { prompt: 'waves at dusk' });
    const { outcome } = await rig.waitSettled(id);
    expect(rig.adapter.maxUploadBytesFor(outcome!.thread!)).toBe(10 * MiB);
    const take = await clip('take-1.mp4', 3 * MiB);
    const posted = await rig.adapter.post(outcome!.thread!, { text: 'Take 1', attachments: [take], buttons: [[{ action: 'vote:s:1:0', label: 'Vote' }]] });

    const call = rig.standIn.calls.find((c) => c.method === 'POST' && c.path === `/channels/${outcome!.thread!.threadId}/messages`)!;
    expect(call.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(call.headers.authorization).toBe(`Bot ${rig.standIn.token}`);
    expect(call.files).toEqual([{ field: 'files[0]', filename: 'take-1.mp4', contentType: 'video/mp4', size: 3 * MiB }]);
    expect(call.json).toMatchObject({ content: 'Take 1', attachments: [{ id: 0, filename: 'take-1.mp4' }], components: [{ type: 1 }] });
    expect(rig.standIn.messages.get(posted.messageId)!.attachments[0]).toMatchObject({ filename: 'take-1.mp4', size: 3 * MiB });
  });

  test('the session message can carry a file: the deferred reply is edited with a multipart body', async () => {
    rig = await startRig({ adapter: { artifacts: store } });
    const still = await clip('first-frame.mp4', 200_000);
    rig.core = async (event) => {
      const { thread } = await rig!.adapter.startThread(event as CommandEvent, { text: 'v1', attachments: [still] });
      return { thread };
    };
    const { id } = rig.standIn.command('video', { prompt: 'a kite' });
    await rig.waitSettled(id);
    const edit = rig.standIn.calls.find((c) => c.method === 'PATCH' && c.path.endsWith('/@original'))!;
    expect(edit.files).toEqual([{ field: 'files[0]', filename: 'first-frame.mp4', contentType: expect.any(String), size: 200_000 }]);
  });

  test("the server's attachment_size_limit is remembered; an oversized file is refused before anything is sent", async () => {
    rig = await startRig({ standIn: { attachmentSizeLimit: 2 * MiB }, adapter: { artifacts: store } });
    const { id } = rig.standIn.command('video', { prompt: 'rain on glass' });
    const { outcome } = await rig.waitSettled(id);
    const thread = outcome!.thread!;
    expect(rig.adapter.maxUploadBytesFor(thread)).toBe(2 * MiB);

    const big = await clip('final.mp4', 3 * MiB);
    const before = rig.standIn.calls.length;
    const refused = rig.adapter.post(thread, { text: 'Final', attachments: [big] });
    await expect(refused).rejects.toMatchObject({ name: 'DailiesError', code: 'bad_input' });
    await expect(refused).rejects.toThrow('"final.mp4" is 3 MiB, over this Discord server\'s 2 MiB upload limit; render it shorter or smaller.');
    expect(rig.standIn.calls.length).toBe(before);

    const fits = await clip('preview.mp4', 2 * MiB);
    await expect(rig.adapter.post(thread, { text: 'Preview', attachments: [fits] })).resolves.toMatchObject({ thread });
  });
});

describe('image options', () => {
  const png = { filename: 'frame.png', size: 120_000, contentType: 'image/png' };

  test('an image from Discord\'s CDN reaches the core as an attachment, not as an option', async () => {
    rig = await startRig({ adapter: { artifacts: store } });
    const { id } = rig.standIn.command('video', { image: { attachment: png }, prompt: 'leaves falling', strength: 0.6 });
    await rig.waitSettled(id);
    const event = rig.events.at(-1) as CommandEvent;
    expect(event.options).toEqual({ prompt: 'leaves falling', strength: 0.6 });
    expect(event.attachments).toEqual([{ url: expect.stringMatching(/^https:\/\/cdn\.discordapp\.com\/attachments\//), filename: 'frame.png', contentType: 'image/png', bytes: 120_000 }]);
  });

  test.each([
    ['a look-alike host', { ...png, url: 'https://cdn.discordapp.com.evil.example/a.png' }, /not hosted on Discord's CDN/],
    ['an internal address', { ...png, url: 'http://169.254.169.254/latest/meta-data' }, /not hosted on Discord's CDN/],
    ['a non-image', { filename: 'notes.txt', size: 100, contentType: 'text/plain' }, /text\/plain file; attach a PNG, JPEG or WebP image/],
    ['an image that is too large', { ...png, size: 11 * MiB }, /images may be at most 10\.0 MiB/],
  ])('%s is refused privately and never reaches the core', async (_label, attachment, message) => {
    rig = await startRig({ adapter: { artifacts: store } });
    const { id, dispatchedAt } = rig.standIn.command('video', { prompt: 'p', image: { attachment } });
    await rig.waitSettled(id);
    expect(rig.events).toEqual([]);
    const calls = rig.standIn.calls.filter((c) => c.time >= dispatchedAt);
    expect(calls[0]!.json).toEqual({ type: 5, data: { flags: 64 } });
    expect(calls[1]!.json.content).toMatch(message);
  });

  test('only https on cdn.discordapp.com and media.discordapp.net passes', () => {
    expect(isDiscordCdnUrl('https://cdn.discordapp.com/attachments/1/2/a.png?ex=1')).toBe(true);
    expect(isDiscordCdnUrl('https://media.discordapp.net/attachments/1/2/a.png')).toBe(true);
    expect(isDiscordCdnUrl('http://cdn.discordapp.com/a.png')).toBe(false);
    expect(isDiscordCdnUrl('https://cdn.discordapp.com:8443/a.png')).toBe(false);
    expect(isDiscordCdnUrl('https://user:pw@cdn.discordapp.com/a.png')).toBe(false);
    expect(isDiscordCdnUrl('https://evilcdn.discordapp.com/a.png')).toBe(false);
    expect(isDiscordCdnUrl('not a url')).toBe(false);
    expect(() => checkImageAttachment({ url: 'https://cdn.discordapp.com/a.png', name: 'a.png', contentType: null, size: 10 })).toThrow(/not recognised as an image/);
  });
});
