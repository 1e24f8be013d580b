import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChatEvent, CommandEvent, MessageRef, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { getJson, postJson, readSse, startTestChat, type TestChat } from './helpers.ts';

/**
 * A restart is a new server and adapter object on the same Redis keys and artifacts directory:
 * channels, threads, messages, buttons and the event log all carry over.
 */

let t: TestChat;

beforeAll(async () => {
  t = await startTestChat();
});

afterAll(async () => {
  await t.cleanup();
});

it('keeps channels, threads, messages and live positions across a restart', async () => {
  let thread!: ThreadRef;
  let progress!: MessageRef;
  await writeFile(join(t.artifactsDir, 'take.mp4'), 'not really a video');
  await t.chat.adapter.start(async (event) => {
    if (event.kind !== 'command') return {};
    const opened = await t.chat.adapter.startThread(event as CommandEvent, { text: 'Session: a red circle' });
    thread = opened.thread;
    progress = await t.chat.adapter.post(thread, { text: 'step 1/4' });
    await t.chat.adapter.post(thread, {
      text: 'Take 1 of v1',
      attachments: [{ kind: 'final', key: 'take.mp4', filename: 'take.mp4', contentType: 'video/mp4', bytes: 18 }],
      buttons: [[{ action: 'vote:s1:1:0', label: 'Vote 1' }]],
    });
    return { thread };
  });
  await postJson(`${t.chat.url}/api/channels`, { name: 'late-night' });
  await postJson(`${t.chat.url}/api/commands`, { channel: 'late-night', user: 'Ana', name: 'video', options: { prompt: 'a red circle' } });
  const before = await getJson(`${t.chat.url}/api/threads/${thread.threadId}`);
  await t.chat.close();

  // The core keeps ThreadRefs and MessageRefs in its own store (JSON); it hands them back after the restart.
  const storedThread = JSON.parse(JSON.stringify(thread)) as ThreadRef;
  const storedProgress = JSON.parse(JSON.stringify(progress)) as MessageRef;
  const events: ChatEvent[] = [];
  const next = await t.restart({
    handler: async (event) => {
      events.push(event);
      return {};
    },
  });

  const channels = await getJson(`${next.url}/api/channels`);
  expect(channels.body.channels.map((c: { id: string }) => c.id)).toEqual(['general', 'studio', 'late-night']);
  const after = await getJson(`${next.url}/api/threads/${thread.threadId}`);
  expect(after.body).toEqual(before.body);
  expect((await fetch(`${next.url}${after.body.messages[2].attachments[0].url}`)).status).toBe(200);

  await next.adapter.edit(storedProgress, { text: 'step 4/4' });
  await next.adapter.post(storedThread, { text: 'after the restart' });
  const live = await readSse(`${next.url}/api/threads/${thread.threadId}/events`, (es) => es.filter((e) => e.event.startsWith('message.')).length >= 2, {
    headers: { 'Last-Event-ID': String(before.body.seq) },
  });
  const messages = live.filter((e) => e.event.startsWith('message.'));
  expect(messages.map((e) => [e.id, e.event, e.data.message.text])).toEqual([
    [String(before.body.seq + 1), 'message.edited', 'step 4/4'],
    [String(before.body.seq + 2), 'message.posted', 'after the restart'],
  ]);

  const vote = await postJson(`${next.url}/api/threads/${thread.threadId}/actions`, { user: 'Ben', action: 'vote', take: 1 });
  expect(vote.status).toBe(200);
  expect(events).toMatchObject([{ kind: 'action', action: 'vote:s1:1:0', thread: storedThread }]);

  const channel = await getJson(`${next.url}/api/channels/late-night`);
  expect(channel.body.messages).toMatchObject([{ text: 'Session: a red circle', replies: 3 }]);
});
