import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandEvent, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { getJson, postJson, readSse, startTestChat, type SseEvent, type TestChat } from './helpers.ts';

/** Live event streams: posting order, per-thread numbering, resume after a break, trimming. */

let t: TestChat;

async function newThread(chat = t): Promise<ThreadRef> {
  let thread: ThreadRef | undefined;
  await chat.chat.adapter.start(async (event) => {
    if (event.kind !== 'command') return {};
    thread = (await chat.chat.adapter.startThread(event as CommandEvent, { text: 'root' })).thread;
    return { thread };
  });
  await postJson(`${chat.chat.url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'p' } });
  return thread!;
}

const messages = (events: SseEvent[]) => events.filter((e) => e.event.startsWith('message.'));

beforeAll(async () => {
  t = await startTestChat({ heartbeatMs: 200 });
});

afterAll(async () => {
  await t.cleanup();
});

describe('thread event stream', () => {
  it('publishes concurrent posts and edits in posting order with consecutive numbers', async () => {
    const thread = await newThread();
    const adapter = t.chat.adapter;
    const progress = await adapter.post(thread, { text: 'step 0/10' });
    let writes!: Promise<unknown>;
    const events = await readSse(`${t.chat.url}/api/threads/${thread.threadId}/events?after=0`, (es) => messages(es).length >= 2 + 30, {
      onReady: () => {
        writes = Promise.all([
          ...Array.from({ length: 20 }, (_, i) => adapter.post(thread, { text: `message ${i}` })),
          ...Array.from({ length: 10 }, (_, i) => adapter.edit(progress, { text: `step ${i + 1}/10` })),
        ]);
      },
    });
    await writes;
    const live = messages(events);
    expect(live.map((e) => Number(e.id))).toEqual(live.map((_, i) => i + 1));
    expect(live.map((e) => e.data.seq)).toEqual(live.map((_, i) => i + 1));
    expect(live[0]).toMatchObject({ event: 'message.posted', data: { message: { text: 'root', root: true } } });
    const snapshot = await getJson(`${t.chat.url}/api/threads/${thread.threadId}`);
    const posted = live.filter((e) => e.event === 'message.posted').map((e) => e.data.message.id);
    expect(posted).toEqual(snapshot.body.messages.map((m: { id: string }) => m.id));
    const lastEdit = live.filter((e) => e.event === 'message.edited').at(-1)!;
    expect(lastEdit.data.message.rev).toBe(10);
    expect(snapshot.body.messages[1]).toMatchObject({ id: progress.messageId, text: lastEdit.data.message.text, rev: 10 });
    expect(snapshot.body.seq).toBe(live.length);
  });

  it('resumes after Last-Event-ID, or after ?after=', async () => {
    const thread = await newThread();
    for (let i = 0; i < 3; i++) await t.chat.adapter.post(thread, { text: `before ${i}` });
    const url = `${t.chat.url}/api/threads/${thread.threadId}/events`;
    const first = messages(await readSse(`${url}?after=0`, (es) => messages(es).length >= 4));
    expect(first.map((e) => e.id)).toEqual(['1', '2', '3', '4']);
    // The connection broke after event 2; more arrived meanwhile.
    for (let i = 0; i < 2; i++) await t.chat.adapter.post(thread, { text: `during ${i}` });
    const resumed = messages(await readSse(url, (es) => messages(es).length >= 4, { headers: { 'Last-Event-ID': '2' } }));
    expect(resumed.map((e) => e.id)).toEqual(['3', '4', '5', '6']);
    expect(resumed.map((e) => e.data.message.text)).toEqual(['before 1', 'before 2', 'during 0', 'during 1']);
    const query = messages(await readSse(`${url}?after=5`, (es) => messages(es).length >= 1));
    expect(query.map((e) => e.data.message.text)).toEqual(['during 1']);
  });

  it('starts at the current number without a position, announcing it in "ready"', async () => {
    const thread = await newThread();
    await t.chat.adapter.post(thread, { text: 'old' });
    const events = await readSse(`${t.chat.url}/api/threads/${thread.threadId}/events`, (es) => messages(es).length >= 1, {
      onReady: () => {
        void t.chat.adapter.post(thread, { text: 'new' });
      },
    });
    expect(events[0]).toMatchObject({ event: 'ready', data: { seq: 2 } });
    expect(messages(events).map((e) => e.data.message.text)).toEqual(['new']);
  });

  it('sends keep-alive comments on idle streams', async () => {
    const thread = await newThread();
    const res = await fetch(`${t.chat.url}/api/threads/${thread.threadId}/events`);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const started = Date.now();
    while (!text.includes(': keep-alive') && Date.now() - started < 3000) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain(': keep-alive');
  });
});

describe('channel event stream', () => {
  it('shows new session roots, their edits, and reply counts', async () => {
    const url = `${t.chat.url}/api/channels/studio/events`;
    let thread!: ThreadRef;
    const events = await readSse(url, (es) => es.filter((e) => e.event !== 'ready').length >= 4, {
      onReady: async () => {
        await t.chat.adapter.start(async (event) => {
          if (event.kind !== 'command') return {};
          const opened = await t.chat.adapter.startThread(event as CommandEvent, { text: 'studio root' });
          thread = opened.thread;
          await t.chat.adapter.post(thread, { text: 'first reply' });
          await t.chat.adapter.edit(opened.message, { text: 'studio root · rendering' });
          await t.chat.adapter.post(thread, { text: 'second reply' });
          return { thread };
        });
        await postJson(`${t.chat.url}/api/commands`, { channel: 'studio', user: 'Ana', name: 'video', options: { prompt: 'p' } });
      },
    });
    const live = events.filter((e) => e.event !== 'ready');
    expect(live.map((e) => e.event)).toEqual(['message.posted', 'thread.updated', 'message.edited', 'thread.updated']);
    expect(live[0]!.data.message).toMatchObject({ text: 'studio root', root: true, thread: thread.threadId });
    expect(live[1]!.data.thread).toMatchObject({ id: thread.threadId, replies: 1 });
    expect(live[3]!.data.thread).toMatchObject({ id: thread.threadId, replies: 2 });
    expect(live.map((e) => Number(e.id))).toEqual([1, 2, 3, 4].map((n) => n + Number(live[0]!.id) - 1));
  });

  it('answers 404 for an unknown channel', async () => {
    expect((await fetch(`${t.chat.url}/api/channels/nowhere/events`)).status).toBe(404);
  });
});

describe('combined stream', () => {
  it('follows a channel and a thread on one connection and resumes both', async () => {
    const thread = await newThread();
    const streams = `channel:general,thread:${thread.threadId}`;
    const base = `${t.chat.url}/api/events?streams=${encodeURIComponent(streams)}`;
    const channelSeq = (await getJson(`${t.chat.url}/api/channels/general`)).body.seq;
    const first = await readSse(`${base}&after=${channelSeq}.1`, (es) => es.length >= 5, {
      onReady: async () => {
        await t.chat.adapter.post(thread, { text: 'one' });
        await t.chat.adapter.post(thread, { text: 'two' });
      },
    });
    const live = first.filter((e) => e.event !== 'ready');
    expect(first[0]).toMatchObject({ event: 'ready', data: { streams: { 'channel:general': channelSeq, [`thread:${thread.threadId}`]: 1 } } });
    expect(live.map((e) => [e.event, e.data.stream, e.id])).toEqual([
      ['message.posted', `thread:${thread.threadId}`, `${channelSeq}.2`],
      ['thread.updated', 'channel:general', `${channelSeq + 1}.2`],
      ['message.posted', `thread:${thread.threadId}`, `${channelSeq + 1}.3`],
      ['thread.updated', 'channel:general', `${channelSeq + 2}.3`],
    ]);
    // Each stream resumes from its own position; order across streams is not defined.
    const resumed = (await readSse(base, (es) => es.length >= 4, { headers: { 'Last-Event-ID': `${channelSeq}.2` } })).filter((e) => e.event !== 'ready');
    expect(resumed.filter((e) => e.data.stream === 'channel:general').map((e) => e.data.thread.replies)).toEqual([1, 2]);
    expect(resumed.filter((e) => e.data.stream !== 'channel:general').map((e) => e.data.message.text)).toEqual(['two']);
    expect(resumed.at(-1)!.id).toBe(`${channelSeq + 2}.3`);
  });

  it('refuses unknown or repeated streams', async () => {
    const thread = await newThread();
    expect((await fetch(`${t.chat.url}/api/events`)).status).toBe(400);
    expect((await fetch(`${t.chat.url}/api/events?streams=thread:t_nope`)).status).toBe(404);
    expect((await fetch(`${t.chat.url}/api/events?streams=channel:nope`)).status).toBe(404);
    expect((await fetch(`${t.chat.url}/api/events?streams=bogus`)).status).toBe(404);
    expect((await fetch(`${t.chat.url}/api/events?streams=thread:${thread.threadId},thread:${thread.threadId}`)).status).toBe(400);
  });
});

describe('trimmed logs', () => {
  it('tells a client that fell too far behind to reload', async () => {
    const small = await startTestChat({ eventLogSize: 3 });
    try {
      const thread = await newThread(small);
      for (let i = 0; i < 6; i++) await small.chat.adapter.post(thread, { text: `m${i}` });
      const events = await readSse(`${small.chat.url}/api/threads/${thread.threadId}/events`, (es) => es.some((e) => e.event === 'reset'), {
        headers: { 'Last-Event-ID': '1' },
      });
      expect(events.find((e) => e.event === 'reset')).toMatchObject({ id: '7', data: { seq: 7 } });
      const fresh = messages(await readSse(`${small.chat.url}/api/threads/${thread.threadId}/events?after=5`, (es) => messages(es).length >= 2));
      expect(fresh.map((e) => e.data.message.text)).toEqual(['m4', 'm5']);
    } finally {
      await small.cleanup();
    }
  });
});
