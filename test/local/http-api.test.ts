import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvent, EventOutcome } from '../../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../../src/errors.ts';
import { getJson, postJson, startTestChat, type TestChat } from './helpers.ts';

/** The JSON API over real HTTP against a real Redis, with a scripted stand-in for the core. */

let t: TestChat;
let url: string;
let events: ChatEvent[];
let script: (event: ChatEvent) => Promise<EventOutcome> | EventOutcome;

const oneSentence = (message: unknown) => {
  expect(typeof message).toBe('string');
  expect(message as string).toMatch(/^[^\n]{5,240}[.?]$/);
};

async function openThread(prompt = 'a red circle'): Promise<string> {
  const res = await postJson(`${url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt } });
  expect(res.status).toBe(200);
  return res.body.thread as string;
}

function rawRequest(method: string, path: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  t = await startTestChat({
    hooks: {
      commandHelp: () => [
        { name: 'video', description: 'Start a session.', options: [{ name: 'prompt', required: true }, { name: 'seed', type: 'integer' }, { name: 'takes', type: 'integer' }] },
        { name: 'cancel', description: 'Cancel the render.', where: 'thread' },
      ],
    },
  });
  url = t.chat.url;
  await t.chat.adapter.start(async (event) => {
    events.push(event);
    return script(event);
  });
});

afterAll(async () => {
  await t.cleanup();
});

beforeEach(() => {
  events = [];
  // The stand-in core: /video opens a session with one take message carrying the core's buttons.
  script = async (event) => {
    if (event.kind === 'command' && event.name === 'video') {
      const { thread } = await t.chat.adapter.startThread(event, { text: `Session: ${String(event.options.prompt)}` });
      await t.chat.adapter.post(thread, {
        text: 'Take 1 of v1 · seed 7',
        buttons: [
          [
            { action: 'vote:s1:1:0', label: 'Vote 1', style: 'primary' },
            { action: 'pick:s1:1:0', label: 'Pick (owner)' },
            { action: 'finalize:s1:j1:0', label: 'Finalize', style: 'success' },
          ],
        ],
      });
      await t.chat.adapter.post(thread, {
        text: 'Take 2 of v1 · seed 8',
        buttons: [
          [
            { action: 'vote:s1:1:1', label: 'Vote 2', style: 'primary' },
            { action: 'pick:s1:1:1', label: 'Pick (owner)' },
            { action: 'finalize:s1:j1:1', label: 'Finalize', style: 'success' },
          ],
        ],
      });
      await t.chat.adapter.post(thread, {
        text: 'Votes for v1',
        buttons: [
          [
            { action: 'reroll:s1', label: 'Reroll' },
            { action: 'edit-prompt:s1', label: 'Edit prompt' },
            { action: 'cancel:j0', label: 'Cancel', disabled: true },
          ],
        ],
      });
      return { thread };
    }
    return {};
  };
});

describe('reading', () => {
  it('reports health', async () => {
    const res = await getJson(`${url}/api/health`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, platform: 'local', running: true, redis: 'ok' });
  });

  it('lists the default channels and adds new ones', async () => {
    const list = await getJson(`${url}/api/channels`);
    expect(list.body.channels.map((c: { id: string }) => c.id)).toEqual(['general', 'studio']);
    expect((await postJson(`${url}/api/channels`, { name: 'night-shift' })).status).toBe(201);
    expect((await postJson(`${url}/api/channels`, { name: 'night-shift' })).status).toBe(200);
    const bad = await postJson(`${url}/api/channels`, { name: 'Night Shift!' });
    expect(bad.status).toBe(400);
    oneSentence(bad.body.error.message);
    expect((await getJson(`${url}/api/channels/night-shift`)).body).toMatchObject({ channel: { id: 'night-shift' }, messages: [], seq: 0 });
    expect((await getJson(`${url}/api/channels/nope`)).status).toBe(404);
  });

  it('shows a thread in posting order, with its root first and a null session until wired', async () => {
    const thread = await openThread('a blue square');
    const res = await getJson(`${url}/api/threads/${thread}`);
    expect(res.status).toBe(200);
    expect(res.body.thread).toMatchObject({ id: thread, channel: 'general', title: 'a blue square', createdBy: 'Ana' });
    expect(res.body.messages.map((m: { text: string }) => m.text)).toEqual(['Session: a blue square', 'Take 1 of v1 · seed 7', 'Take 2 of v1 · seed 8', 'Votes for v1']);
    expect(res.body.messages[0]).toMatchObject({ root: true, invocation: { user: 'Ana', command: '/video a blue square' }, author: { bot: true } });
    expect(res.body.session).toBeNull();
    expect(res.body.seq).toBe(4);

    const channel = await getJson(`${url}/api/channels/general`);
    const root = channel.body.messages.find((m: { thread: string }) => m.thread === thread);
    expect(root).toMatchObject({ root: true, replies: 3 });
  });

  it('asks the core for the session summary and survives its failure', async () => {
    const thread = await openThread();
    t.chat.setHooks({ describeSession: async (ref) => ({ status: 'voting', thread: ref.threadId }) });
    expect((await getJson(`${url}/api/threads/${thread}`)).body.session).toEqual({ status: 'voting', thread });
    expect((await getJson(`${url}/api/threads/${thread}/session`)).body.session).toEqual({ status: 'voting', thread });
    t.chat.setHooks({
      describeSession: async () => {
        throw new Error('store down');
      },
    });
    expect((await getJson(`${url}/api/threads/${thread}`)).body.session).toBeNull();
    t.chat.setHooks({ describeSession: undefined });
  });

  it('answers 404 for unknown threads everywhere', async () => {
    for (const id of ['t_doesnotexist', 'x'.repeat(300), '..%2F..%2Fetc']) {
      expect((await getJson(`${url}/api/threads/${id}`)).status).toBe(404);
      expect((await postJson(`${url}/api/threads/${id}/messages`, { user: 'Ana', text: 'hi' })).status).toBe(404);
      expect((await postJson(`${url}/api/threads/${id}/actions`, { user: 'Ana', action: 'vote' })).status).toBe(404);
      expect((await fetch(`${url}/api/threads/${id}/events`)).status).toBe(404);
    }
  });

  it('serves the command list from the core', async () => {
    const res = await getJson(`${url}/api/commands/help`);
    expect(res.body.commands.map((c: { name: string }) => c.name)).toEqual(['video', 'cancel']);
  });

  it('serves the page and its scripts with a strict content policy', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/static/app.js');
    const script = await fetch(`${url}/static/app.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${url}/static/..%2Fhttp-api.ts`)).status).toBe(404);
    expect((await fetch(`${url}/static/missing.js`)).status).toBe(404);
  });
});

describe('commands', () => {
  it('delivers a command and acks with its thread', async () => {
    const res = await postJson(`${url}/api/commands`, { channel: 'studio', user: '  Ana  ', name: 'video', options: { prompt: 'a red circle', takes: 2 } });
    expect(res.status).toBe(200);
    expect(res.body.thread).toMatch(/^t_/);
    expect(events[0]).toMatchObject({ kind: 'command', platform: 'local', channelId: 'studio', name: 'video', options: { prompt: 'a red circle', takes: 2 }, user: { name: 'Ana', canModerate: false } });
  });

  it('parses typed command lines with the core command list', async () => {
    const res = await postJson(`${url}/api/commands`, { channel: 'general', user: 'Ana', text: '/video a red circle, slowly: zoom seed:42 takes: 3' });
    expect(res.status).toBe(200);
    expect(events[0]).toMatchObject({ name: 'video', options: { prompt: 'a red circle, slowly: zoom', seed: 42, takes: 3 } });
    const unknown = await postJson(`${url}/api/commands`, { channel: 'general', user: 'Ana', text: '/dance now' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('/dance');
    oneSentence(unknown.body.error.message);
  });

  it('passes a command typed inside a thread with that thread', async () => {
    const thread = await openThread();
    events = [];
    const res = await postJson(`${url}/api/commands`, { thread, user: 'Ben', text: '/cancel' });
    expect(res.status).toBe(200);
    expect(events[0]).toMatchObject({ kind: 'command', name: 'cancel', channelId: 'general', thread: { platform: 'local', channelId: 'general', threadId: thread } });
    expect((await postJson(`${url}/api/commands`, { thread, channel: 'studio', user: 'Ben', text: '/cancel' })).status).toBe(400);
  });

  it('maps the same display name to the same user and different names apart', async () => {
    await postJson(`${url}/api/commands`, { channel: 'general', user: 'Ana Lima', name: 'noop', options: {} });
    await postJson(`${url}/api/commands`, { channel: 'general', user: ' ana   lima ', name: 'noop', options: {} });
    await postJson(`${url}/api/commands`, { channel: 'general', user: 'Ben', name: 'noop', options: {} });
    const [a, b, c] = events;
    expect(a!.user.id).toBe(b!.user.id);
    expect(a!.user.id).not.toBe(c!.user.id);
    expect(a!.user.id).toMatch(/^local-[0-9a-f]{16}$/);
  });

  it('returns ephemeral and error outcomes to the caller', async () => {
    script = (event) => (event.kind === 'command' && event.name === 'quiet' ? { ephemeral: 'Only you see this.' } : { error: { code: 'policy_refused', message: 'That prompt is not allowed.' } });
    const quiet = await postJson(`${url}/api/commands`, { channel: 'general', user: 'Ana', name: 'quiet', options: {} });
    expect(quiet).toMatchObject({ status: 200, body: { ephemeral: 'Only you see this.' } });
    const refused = await postJson(`${url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'x' } });
    expect(refused).toMatchObject({ status: 422, body: { error: { code: 'policy_refused', message: 'That prompt is not allowed.' } } });
    script = () => {
      throw new DailiesError('rate_limited', 'You have two renders waiting; wait for one to finish.');
    };
    expect(await postJson(`${url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'x' } })).toMatchObject({
      status: 429,
      body: { error: { code: 'rate_limited' } },
    });
    script = () => {
      throw new TypeError('boom');
    };
    const crashed = await postJson(`${url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'x' } });
    expect(crashed.status).toBe(500);
    expect(crashed.body.error.code).toBe('internal');
    expect(JSON.stringify(crashed.body)).not.toContain('boom');
  });

  it('delivers a repeated id again with the same event id and answers it like the first time', async () => {
    let calls = 0;
    const base = script;
    // Like the core: the first delivery of an id does the work, later ones are acknowledged only.
    script = async (event) => (++calls === 1 ? base(event) : {});
    const body = { id: 'retry-1', channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'once' } };
    const [first, second] = await Promise.all([postJson(`${url}/api/commands`, body), postJson(`${url}/api/commands`, body)]);
    const third = await postJson(`${url}/api/commands`, body);
    expect(events).toHaveLength(3);
    expect(new Set(events.map((e) => e.id)).size).toBe(1);
    expect(first.body.thread).toMatch(/^t_/);
    expect(second.body).toEqual(first.body);
    expect(third.body).toEqual(first.body);
    // Another person's identical id is another event.
    await postJson(`${url}/api/commands`, { ...body, user: 'Ben' });
    expect(events[3]!.id).not.toBe(events[0]!.id);
  });

  it('acks 202 pending when the core is slow, and the work still lands', async () => {
    const slow = await startTestChat({ ackTimeoutMs: 100 });
    try {
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      await slow.chat.adapter.start(async (event) => {
        await new Promise((r) => setTimeout(r, 400));
        if (event.kind === 'command') await slow.chat.adapter.startThread(event, { text: 'late root' });
        done();
        return {};
      });
      const res = await postJson(`${slow.chat.url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'slow' } });
      expect(res).toMatchObject({ status: 202, body: { pending: true } });
      await finished;
      const channel = await getJson(`${slow.chat.url}/api/channels/general`);
      expect(channel.body.messages.map((m: { text: string }) => m.text)).toEqual(['late root']);
    } finally {
      await slow.cleanup();
    }
  });

  it('answers 503 while the core is not attached', async () => {
    const idle = await startTestChat();
    try {
      const res = await postJson(`${idle.chat.url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'x' } });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('unavailable');
      expect((await getJson(`${idle.chat.url}/api/health`)).body.running).toBe(false);
    } finally {
      await idle.cleanup();
    }
  });
});

describe('replies and actions', () => {
  it('delivers a reply as a ReplyEvent', async () => {
    const thread = await openThread();
    events = [];
    const res = await postJson(`${url}/api/threads/${thread}/messages`, { user: 'Ben', text: '  make it blue  ' });
    expect(res.status).toBe(200);
    expect(events[0]).toMatchObject({ kind: 'reply', text: 'make it blue', thread: { platform: 'local', channelId: 'general', threadId: thread }, user: { name: 'Ben' } });
  });

  it('maps "vote for take 2" and friends to the core button keys', async () => {
    const thread = await openThread();
    events = [];
    const act = (body: Record<string, unknown>) => postJson(`${url}/api/threads/${thread}/actions`, { user: 'Ben', ...body });
    expect((await act({ action: 'vote', take: 2 })).status).toBe(200);
    expect((await act({ action: 'vote', take: 1 })).status).toBe(200);
    expect((await act({ action: 'finalize', take: 1 })).status).toBe(200);
    expect((await act({ action: 'pick', take: 2 })).status).toBe(200);
    expect((await act({ action: 'reroll' })).status).toBe(200);
    expect((await act({ action: 'edit-prompt' })).status).toBe(200);
    expect((await act({ action: 'vote:s1:1:0' })).status).toBe(200);
    expect((await act({ key: 'finalize:s1:j1:1' })).status).toBe(200);
    expect(events.map((e) => (e.kind === 'action' ? e.action : ''))).toEqual([
      'vote:s1:1:1',
      'vote:s1:1:0',
      'finalize:s1:j1:0',
      'pick:s1:1:1',
      'reroll:s1',
      'edit-prompt:s1',
      'vote:s1:1:0',
      'finalize:s1:j1:1',
    ]);
    const missing = await act({ action: 'vote', take: 3 });
    expect(missing.status).toBe(404);
    oneSentence(missing.body.error.message);
    expect((await act({ key: 'vote:s1:9:9' })).status).toBe(404);
    const disabled = await act({ action: 'cancel' });
    expect(disabled.status).toBe(409);
    expect(disabled.body.error.message).toContain('disabled');
    expect(events).toHaveLength(8);
  });

  it('opens forms and accepts their submission only once opened', async () => {
    const thread = await openThread();
    script = (event) => {
      if (event.kind === 'action' && event.action === 'edit-prompt:s1') {
        return { openForm: { action: 'edit-prompt-submit:s1', title: 'Edit the prompt', fields: [{ id: 'prompt', label: 'Prompt', value: 'a red circle', multiline: true }] } };
      }
      return {};
    };
    const early = await postJson(`${url}/api/threads/${thread}/actions`, { user: 'Ana', action: 'edit-prompt-submit:s1', values: { prompt: 'sneaky' } });
    expect(early.status).toBe(404);
    const opened = await postJson(`${url}/api/threads/${thread}/actions`, { user: 'Ana', action: 'edit-prompt' });
    expect(opened.body.form).toMatchObject({ action: 'edit-prompt-submit:s1', title: 'Edit the prompt' });
    events = [];
    const submitted = await postJson(`${url}/api/threads/${thread}/actions`, { user: 'Ana', action: 'edit-prompt-submit:s1', values: { prompt: 'a green circle' } });
    expect(submitted.status).toBe(200);
    expect(events[0]).toMatchObject({ kind: 'action', action: 'edit-prompt-submit:s1', values: { prompt: 'a green circle' } });
  });
});

describe('bad input', () => {
  const cases: [string, unknown][] = [
    ['missing user', { channel: 'general', name: 'video', options: {} }],
    ['user not a string', { channel: 'general', user: 42, name: 'video', options: {} }],
    ['empty user', { channel: 'general', user: '   ', name: 'video', options: {} }],
    ['long user', { channel: 'general', user: 'x'.repeat(41), name: 'video', options: {} }],
    ['control characters in user', { channel: 'general', user: 'Ana\u0000', name: 'video', options: {} }],
    ['bidi override in user', { channel: 'general', user: 'Ana\u202e', name: 'video', options: {} }],
    ['no channel', { user: 'Ana', name: 'video', options: {} }],
    ['bad channel', { channel: '../general', user: 'Ana', name: 'video', options: {} }],
    ['both name and text', { channel: 'general', user: 'Ana', name: 'video', text: '/video x' }],
    ['neither name nor text', { channel: 'general', user: 'Ana' }],
    ['nested option', { channel: 'general', user: 'Ana', name: 'video', options: { prompt: { $gt: '' } } }],
    ['array options', { channel: 'general', user: 'Ana', name: 'video', options: ['x'] }],
    ['unknown field', { channel: 'general', user: 'Ana', name: 'video', options: {}, admin: true }],
    ['bad id', { id: 'a b', channel: 'general', user: 'Ana', name: 'video', options: {} }],
    ['array body', [1, 2]],
    ['string body', 'hello'],
    ['null body', null],
  ];
  for (const [label, body] of cases) {
    it(`refuses a command with ${label} in one sentence`, async () => {
      const res = await postJson(`${url}/api/commands`, JSON.stringify(body));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('bad_input');
      oneSentence(res.body.error.message);
    });
  }

  it('names the field in the sentence', async () => {
    const res = await postJson(`${url}/api/commands`, { channel: 'general', user: 42, name: 'video', options: {} });
    expect(res.body.error.message).toMatch(/user/);
  });

  it('refuses non-JSON, wrong content types and huge bodies', async () => {
    expect((await postJson(`${url}/api/commands`, '{"user": "Ana",')).status).toBe(400);
    const form = await fetch(`${url}/api/commands`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(form.status).toBe(415);
    const huge = await postJson(`${url}/api/commands`, { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'x'.repeat(200_000) } });
    expect(huge.status).toBe(413);
    oneSentence(huge.body.error.message);
    const chunked = await rawRequest('POST', '/api/commands', Buffer.alloc(100_000, 0x20), { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    expect(chunked.status).toBe(413);
  });

  it('survives bad encodings', async () => {
    const bodies = [
      Buffer.from([0xff, 0xfe, 0xfd, 0x7b, 0x22]),
      Buffer.concat([Buffer.from('{"channel":"general","user":"'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('","name":"video","options":{}}')]),
      Buffer.from('{"channel":"general","user":"\\ud800","name":"video","options":{"prompt":"\\udfff"}}'),
      Buffer.from('\uFEFF{"channel":"general","user":"Ana","name":"video","options":{}}', 'utf8'),
      Buffer.from('{"channel":"general","user":"Ana","name":"video","options":{"__proto__":{"x":1}}}'),
    ];
    for (const body of bodies) {
      const res = await rawRequest('POST', '/api/commands', body, { 'content-type': 'application/json; charset=utf-8' });
      expect(res.status).toBeLessThan(500);
      expect(() => JSON.parse(res.body)).not.toThrow();
    }
    expect((await getJson(`${url}/api/health`)).body.ok).toBe(true);
  });

  it('never fails with a 500 on fuzzed bodies', async () => {
    const thread = await openThread();
    script = () => ({});
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const values = (): unknown =>
      pick<() => unknown>([
        () => 'Ana',
        () => '',
        () => 'x'.repeat(Math.floor(rand() * 5000)),
        () => Math.floor(rand() * 1e9) - 5e8,
        () => rand() > 0.5,
        () => null,
        () => [],
        () => ({}),
        () => ({ nested: { deep: [1, 2, { a: 'b' }] } }),
        () => '\u0000\u202e\ud800',
        () => 1e308 * 10,
        () => 'general',
        () => '/video a red circle',
        () => 'vote',
      ])();
    const keys = ['id', 'channel', 'thread', 'user', 'name', 'options', 'text', 'action', 'key', 'take', 'values', 'prompt'];
    const paths = ['/api/commands', `/api/threads/${thread}/messages`, `/api/threads/${thread}/actions`, '/api/channels'];
    for (let i = 0; i < 150; i++) {
      const body: Record<string, unknown> = {};
      for (const key of keys) if (rand() < 0.45) body[key] = values();
      const res = await postJson(`${url}${pick(paths)}`, body);
      expect(res.status, JSON.stringify(body).slice(0, 200)).toBeLessThan(500);
      if (res.status >= 400) oneSentence(res.body.error.message);
    }
    expect((await getJson(`${url}/api/health`)).body.ok).toBe(true);
  });
});
