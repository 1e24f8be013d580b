import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { serveStatic } from '@hono/node-server/serve-static';
import { z } from 'zod';
import type { ActionEvent, ChatEvent, ChatUser, CommandEvent, EventOutcome, ReplyEvent, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { describeZodIssues, isDailiesError } from '../../src/errors.ts';
import { UNREACHABLE_MESSAGE, isRedisUnreachable } from '../../src/redis/unreachable.ts';
import { findButton } from './action-match.ts';
import { readRequestBody } from './request-body.ts';
import { artifactsRoute } from './artifact-files.ts';
import { parseCommandLine } from './command-line.ts';
import { isChannelId, isObjectId, type LocalChatAdapter } from './local-chat-adapter.ts';
import { MAX_SNAPSHOT, type LiveSignal, type StoredThread, type StreamEvent, type StreamName } from './local-store.ts';
import { isPrintableName, localUser, USER_NAME_MAX } from './local-users.ts';
import { channelView, eventView, messageView, publicStreamName, threadView } from './message-view.ts';

/**
 * The local chat's HTTP side: the JSON API the page (and scripts, and tests) talk to, its live
 * event streams, the artifact files and the page itself. Requests are the platform's events: each
 * POST is delivered to the core through the adapter and answered with the core's outcome.
 */

export interface LocalChatApiOptions {
  adapter: LocalChatAdapter;
  /** The page's files. Default: ./public next to this module. */
  publicDir?: string;
  /**
   * How long a POST waits for the core before answering 202 {"pending":true}; the core keeps
   * working and its messages still appear. Default 10 s (the platforms allow 3 s, then defer).
   */
  ackTimeoutMs?: number;
  /** Default 64 KiB. */
  bodyLimitBytes?: number;
  /** Comment lines keep idle event streams open through proxies. Default 15 s. */
  heartbeatMs?: number;
  logger?: Pick<Console, 'warn' | 'error'>;
}

export interface LocalChatApi {
  app: Hono;
  /** Ends every open event stream (a server cannot close while they are open). */
  closeStreams(): void;
}

type ErrorStatus = 400 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

const STATUS_BY_CODE: Record<string, ErrorStatus> = {
  bad_input: 400,
  policy_refused: 422,
  rate_limited: 429,
  not_found: 404,
  forbidden: 403,
  conflict: 409,
  cancelled: 409,
  model_invalid: 500,
  missing_dependency: 503,
  unavailable: 503,
  internal: 500,
};

const RESPONSE_TTL_S = 24 * 3600;
const HEALTH_DEADLINE_MS = 500;

/** `work`, or a rejection with `message` once `ms` pass (the work itself is left to finish). */
function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

const userName = z
  .string({ error: 'must be a display name (a string)' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(USER_NAME_MAX, { error: `must be at most ${USER_NAME_MAX} characters` })
  .refine(isPrintableName, { error: 'must not contain control characters' });
const clientId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,100}$/, { error: 'must be 1 to 100 letters, digits, dots, dashes, colons or underscores' })
  .optional();
const channelId = z.string().refine(isChannelId, { error: 'must be a channel name of lower-case letters, digits and dashes' });
const optionValue = z.union([z.string().max(4000, { error: 'must be at most 4000 characters' }), z.number().finite(), z.boolean(), z.null()], {
  error: 'must be a string (at most 4000 characters), number, boolean or null',
});

const CommandBody = z
  .strictObject({
    id: clientId,
    channel: channelId.optional(),
    thread: z.string().max(64).optional(),
    user: userName,
    name: z.string({ error: 'must be a command name like "video"' }).regex(/^[a-z0-9_-]{1,32}$/, { error: 'must be a command name like "video"' }).optional(),
    options: z
      .record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, { error: 'must be an option name' }), optionValue)
      .refine((o) => Object.keys(o).length <= 25, { error: 'must have at most 25 entries' })
      .optional(),
    text: z.string().min(1).max(4000).optional(),
  })
  .refine((b) => (b.name === undefined) !== (b.text === undefined), {
    error: 'needs either "name" (with "options") or "text" like "/video a red circle"',
  })
  .refine((b) => b.channel !== undefined || b.thread !== undefined, { error: 'needs a "channel" (or the "thread" it is typed in)' });

const ReplyBody = z.strictObject({
  id: clientId,
  user: userName,
  text: z
    .string({ error: 'must be the reply text (a string)' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(4000, { error: 'must be at most 4000 characters' }),
});

const ActionBody = z
  .strictObject({
    id: clientId,
    user: userName,
    key: z.string().min(1).max(100).optional(),
    action: z.string().min(1).max(100).optional(),
    take: z.int().min(1).max(100).optional(),
    values: z.record(z.string().min(1).max(64), z.string().max(4000)).refine((v) => Object.keys(v).length <= 10, { error: 'must have at most 10 fields' }).optional(),
  })
  .refine((b) => b.key !== undefined || b.action !== undefined, { error: 'needs an "action" (or a button "key")' });

const ChannelBody = z.strictObject({ name: channelId });

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

function describeBodyError(what: string, issues: z.core.$ZodIssue[]): string {
  const first = issues.find((i) => i.code !== 'unrecognized_keys') ?? issues[0];
  if (!first) return `${what} is invalid.`;
  if (first.code === 'unrecognized_keys') return `${what} has an unknown field "${first.keys[0]}".`;
  if (first.path.length === 0) {
    if (first.code === 'invalid_type') return `${what} must be a JSON object.`;
    return `${what} ${first.message.replace(/\.$/, '')}.`;
  }
  if (first.code === 'invalid_type' && first.message.startsWith('Invalid input')) {
    const field = first.path.map(String).join('.');
    const received = /received (\w+)/.exec(first.message)?.[1];
    if (received === 'undefined') return `${what} needs a "${field}" field.`;
    const expected = first.expected === 'int' ? 'an integer' : first.expected === 'record' || first.expected === 'object' ? 'a JSON object' : `a ${first.expected}`;
    return `${what}: "${field}" must be ${expected}${received ? `, not ${received === 'array' || received === 'object' ? 'an' : 'a'} ${received}` : ''}.`;
  }
  return describeZodIssues(what, [first]);
}

function parseSeq(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,15}$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

function parseLimit(raw: string | undefined, fallback: number): number {
  const n = raw !== undefined && /^\d{1,6}$/.test(raw) ? Number(raw) : fallback;
  return Math.max(1, Math.min(MAX_SNAPSHOT, n));
}

export function createLocalChatApi(options: LocalChatApiOptions): LocalChatApi {
  const { adapter } = options;
  const store = adapter.store;
  const logger = options.logger ?? console;
  const publicDir = options.publicDir ?? fileURLToPath(new URL('./public/', import.meta.url));
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const streams = new Set<AbortController>();
  const inflight = new Map<string, Promise<unknown>>();
  const app = new Hono();

  const fail = (c: Context, status: ErrorStatus, code: string, message: string) => c.json(errorBody(code, message), status);

  app.onError((error, c) => {
    logger.error('local chat: request failed', error);
    if (isDailiesError(error)) return fail(c, STATUS_BY_CODE[error.code] ?? 500, error.code, error.message);
    if (isRedisUnreachable(error)) return fail(c, 503, 'unavailable', UNREACHABLE_MESSAGE);
    return fail(c, 500, 'internal', 'Something went wrong on our side; please try again.');
  });
  app.notFound((c) => fail(c, 404, 'not_found', 'There is nothing at this address.'));

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
  });

  // Requiring a JSON content type makes cross-site form posts need a CORS preflight, which this
  // server never grants: another web page cannot act as a local chat user.
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'POST' && !/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      return fail(c, 415, 'bad_input', 'Send the request body as JSON with Content-Type: application/json.');
    }
    return next();
  });

  const bodyLimitBytes = options.bodyLimitBytes ?? 64 * 1024;

  async function readBody<T>(c: Context, schema: z.ZodType<T>, what: string): Promise<T | Response> {
    const text = await readRequestBody({ incoming: (c.env as { incoming?: IncomingMessage } | undefined)?.incoming, fetchText: () => c.req.text() }, bodyLimitBytes);
    if (text === 'too-large') {
      // The rest of the body is never read; a client must not send its next request on this connection.
      c.header('Connection', 'close');
      return fail(c, 413, 'bad_input', `The request body is larger than ${Math.round(bodyLimitBytes / 1024)} KiB.`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return fail(c, 400, 'bad_input', `${what} is not valid JSON.`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) return fail(c, 400, 'bad_input', describeBodyError(what, parsed.error.issues));
    return parsed.data;
  }

  async function threadOr404(c: Context): Promise<StoredThread | Response> {
    const thread = await adapter.findThread(c.req.param('id') ?? '');
    return thread ?? fail(c, 404, 'not_found', 'There is no such thread.');
  }

  const eventId = (kind: ChatEvent['kind'], user: ChatUser, id: string | undefined) =>
    // Scoped by user: a client-chosen id can only ever collide with the same person's own retry.
    `local:${kind}:${user.id}:${id ?? randomUUID()}`;

  type Reply = { status: 200 | 202 | ErrorStatus; body: Record<string, unknown> };

  function toReply(event: ChatEvent, outcome: EventOutcome): Reply {
    const body: Record<string, unknown> = { id: event.id };
    if (outcome.thread?.platform === 'local') body.thread = outcome.thread.threadId;
    if (outcome.ephemeral) body.ephemeral = outcome.ephemeral;
    if (outcome.openForm) body.form = outcome.openForm;
    if (outcome.error) {
      body.error = { code: outcome.error.code, message: outcome.error.message };
      return { status: STATUS_BY_CODE[outcome.error.code] ?? 400, body };
    }
    return { status: 200, body };
  }

  /**
   * Delivers the event and answers with the core's outcome. Deliveries of one id run one after the
   * other, and every delivery reaches the core (which dedupes by id); a repeated id is answered with
   * the first delivery's response, so a retried request learns its thread.
   */
  async function deliver(c: Context, event: ChatEvent, clientSupplied: boolean, formThread?: string): Promise<Response> {
    const previous = inflight.get(event.id) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async (): Promise<Reply> => {
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          adapter.deliver(event),
          new Promise<null>((resolve) => (timer = setTimeout(resolve, ackTimeoutMs, null))),
        ]).finally(() => clearTimeout(timer));
        if (outcome === null) return { status: 202, body: { id: event.id, pending: true } };
        const thread = outcome.thread?.platform === 'local' ? outcome.thread.threadId : formThread;
        if (outcome.openForm && thread) await store.rememberForm(thread, outcome.openForm.action);
        const reply = toReply(event, outcome);
        return clientSupplied ? store.rememberResponse(event.id, reply, RESPONSE_TTL_S) : reply;
      });
    inflight.set(event.id, run);
    try {
      const reply = await run;
      return c.json(reply.body, reply.status);
    } finally {
      if (inflight.get(event.id) === run) inflight.delete(event.id);
    }
  }

  // ---- events in ------------------------------------------------------------------------------

  app.post('/api/commands', async (c) => {
    const body = await readBody(c, CommandBody, 'The command');
    if (body instanceof Response) return body;
    let thread: ThreadRef | undefined;
    let channel = body.channel;
    if (body.thread !== undefined) {
      const stored = await adapter.findThread(body.thread);
      if (!stored) return fail(c, 404, 'not_found', 'There is no such thread.');
      if (channel !== undefined && channel !== stored.channelId) return fail(c, 400, 'bad_input', `That thread is in #${stored.channelId}, not #${channel}.`);
      thread = adapter.threadRef(stored);
      channel = stored.channelId;
    }
    if (!channel || !(await store.getChannel(channel))) return fail(c, 404, 'not_found', `There is no channel #${channel ?? ''}.`);
    let name = body.name;
    let commandOptions: Record<string, unknown> = body.options ?? {};
    if (body.text !== undefined) {
      try {
        ({ name, options: commandOptions } = parseCommandLine(body.text, await adapter.commandHelp()));
      } catch (error) {
        if (isDailiesError(error)) return fail(c, 400, error.code, error.message);
        throw error;
      }
    }
    const user = localUser(body.user);
    const event: CommandEvent = {
      id: eventId('command', user, body.id),
      platform: 'local',
      kind: 'command',
      user,
      receivedAt: Date.now(),
      channelId: channel,
      name: name!,
      options: commandOptions,
    };
    if (thread) event.thread = thread;
    return deliver(c, event, body.id !== undefined, thread?.threadId);
  });

  app.post('/api/threads/:id/messages', async (c) => {
    const thread = await threadOr404(c);
    if (thread instanceof Response) return thread;
    const body = await readBody(c, ReplyBody, 'The reply');
    if (body instanceof Response) return body;
    const user = localUser(body.user);
    const event: ReplyEvent = {
      id: eventId('reply', user, body.id),
      platform: 'local',
      kind: 'reply',
      user,
      receivedAt: Date.now(),
      thread: adapter.threadRef(thread),
      text: body.text,
    };
    await adapter.postUserReply(event.thread, user, body.text, event.id);
    return deliver(c, event, body.id !== undefined, thread.id);
  });

  app.post('/api/threads/:id/actions', async (c) => {
    const thread = await threadOr404(c);
    if (thread instanceof Response) return thread;
    const body = await readBody(c, ActionBody, 'The action');
    if (body instanceof Response) return body;
    const { messages } = await store.snapshot(`t:${thread.id}`, MAX_SNAPSHOT);
    const buttons = messages.flatMap((m) => m.buttons.flat());
    const exact = (key: string) => buttons.findLast((b) => b.action === key);
    let key: string;
    if (body.values !== undefined) {
      // A submitted edit form: its action came from an openForm outcome, not from a button.
      key = (body.key ?? body.action)!;
      if (!exact(key) && !(await store.isFormOpen(thread.id, key))) return fail(c, 404, 'not_found', 'That form is not open in this thread.');
    } else {
      let button = body.key !== undefined ? exact(body.key) : exact(body.action!);
      if (!button && body.key === undefined) {
        const found = findButton(messages, { action: body.action!, ...(body.take !== undefined ? { take: body.take } : {}) }, adapter.matchAction);
        if (found && 'ambiguous' in found) return fail(c, 400, 'bad_input', `Several "${body.action}" buttons match; add "take" to say which.`);
        button = found?.button;
      }
      if (!button) {
        const what = body.key !== undefined ? 'with that key' : `"${body.action}"${body.take !== undefined ? ` for take ${body.take}` : ''}`;
        return fail(c, 404, 'not_found', `There is no button ${what} in this thread.`);
      }
      if (button.disabled) return fail(c, 409, 'conflict', `The "${button.label}" button is disabled.`);
      key = button.action;
    }
    const user = localUser(body.user);
    const event: ActionEvent = {
      id: eventId('action', user, body.id),
      platform: 'local',
      kind: 'action',
      user,
      receivedAt: Date.now(),
      thread: adapter.threadRef(thread),
      action: key,
    };
    if (body.values !== undefined) event.values = body.values;
    return deliver(c, event, body.id !== undefined, thread.id);
  });

  // ---- reading ----------------------------------------------------------------------------------

  app.get('/api/health', async (c) => {
    let redis = 'ok';
    try {
      // Monitors expect an answer within a second: a connection that is down answers at once, and
      // a stalled Redis gets HEALTH_DEADLINE_MS.
      if (store.redis.status !== 'ready') throw new Error(`Redis is not connected (${store.redis.status})`);
      await withDeadline(store.redis.ping(), HEALTH_DEADLINE_MS, `Redis did not answer within ${HEALTH_DEADLINE_MS} ms`);
    } catch (error) {
      redis = error instanceof Error ? error.message : 'unreachable';
    }
    const ok = redis === 'ok';
    return c.json({ ok, platform: 'local', running: adapter.running, redis, maxUploadBytes: adapter.maxUploadBytes }, ok ? 200 : 503);
  });

  app.get('/api/commands/help', async (c) => c.json({ commands: await adapter.commandHelp() }));

  app.get('/api/channels', async (c) => {
    await adapter.open();
    return c.json({ channels: (await store.listChannels()).map(channelView) });
  });

  app.post('/api/channels', async (c) => {
    const body = await readBody(c, ChannelBody, 'The channel');
    if (body instanceof Response) return body;
    const existed = await store.getChannel(body.name);
    const channel = existed ?? (await adapter.createChannel(body.name));
    return c.json({ channel: channelView(channel) }, existed ? 200 : 201);
  });

  app.get('/api/channels/:id', async (c) => {
    const id = c.req.param('id');
    const channel = isChannelId(id) ? await store.getChannel(id) : null;
    if (!channel) return fail(c, 404, 'not_found', 'There is no such channel.');
    const snap = await store.snapshot(`c:${id}`, parseLimit(c.req.query('limit'), 200));
    const sizes = await store.threadSizes(snap.messages.filter((m) => m.root && m.threadId).map((m) => m.threadId!));
    const messages = snap.messages.map((m) => messageView(m, m.root && m.threadId ? Math.max(0, (sizes.get(m.threadId) ?? 1) - 1) : undefined));
    return c.json({ channel: channelView(channel), messages, seq: snap.seq, total: snap.total });
  });

  async function sessionOf(thread: StoredThread): Promise<unknown> {
    const describe = adapter.hooks.describeSession;
    if (!describe) return null;
    try {
      return (await describe(adapter.threadRef(thread))) ?? null;
    } catch (error) {
      logger.warn(`local chat: describeSession failed for thread ${thread.id}`, error);
      return null;
    }
  }

  app.get('/api/threads/:id', async (c) => {
    const thread = await threadOr404(c);
    if (thread instanceof Response) return thread;
    const [snap, session] = await Promise.all([store.snapshot(`t:${thread.id}`, parseLimit(c.req.query('limit'), 500)), sessionOf(thread)]);
    return c.json({ thread: threadView(thread), messages: snap.messages.map((m) => messageView(m)), session, seq: snap.seq, total: snap.total });
  });

  app.get('/api/threads/:id/session', async (c) => {
    const thread = await threadOr404(c);
    if (thread instanceof Response) return thread;
    return c.json({ session: await sessionOf(thread) });
  });

  // ---- live events --------------------------------------------------------------------------------

  /**
   * Server-Sent Events of one or more streams on one connection (browsers allow only six HTTP/1.1
   * connections per host, so a page keeps one). The event id is the list of positions, one per
   * stream in request order ("12.5"), so `Last-Event-ID` (sent by EventSource on reconnect) or
   * `?after=` resumes every stream exactly. Without a position a stream starts at its current
   * sequence number, announced by the first event, `ready`. `reset` means events were trimmed:
   * refetch that stream's state.
   */
  function streamEvents(c: Context, names: StreamName[]): Response {
    const parsePositions = (raw: string | undefined): number[] | undefined => {
      const parts = raw?.split('.').map((p) => parseSeq(p));
      return parts && parts.length === names.length && parts.every((p) => p !== undefined) ? (parts as number[]) : undefined;
    };
    const after = parsePositions(c.req.header('last-event-id')) ?? parsePositions(c.req.query('after'));
    return streamSSE(c, async (stream) => {
      const queue: { index: number; signal: LiveSignal }[] = [];
      let wake: (() => void) | null = null;
      const control = new AbortController();
      streams.add(control);
      stream.onAbort(() => control.abort());
      const unsubscribes = names.map((name, index) =>
        store.subscribe(name, (signal) => {
          queue.push({ index, signal });
          wake?.();
        }),
      );
      try {
        await adapter.open();
        const sent = after ?? (await Promise.all(names.map((name) => store.currentSeq(name))));
        const position = () => sent.join('.');
        const write = async (index: number, event: StreamEvent) => {
          sent[index] = event.seq;
          await stream.writeSSE({ id: position(), event: event.type, data: JSON.stringify({ stream: publicStreamName(names[index]!), ...eventView(event) }) });
        };
        const catchUp = async (index: number) => {
          const backlog = await store.eventsAfter(names[index]!, sent[index]!);
          if (backlog.reset) {
            sent[index] = backlog.seq;
            await stream.writeSSE({ id: position(), event: 'reset', data: JSON.stringify({ stream: publicStreamName(names[index]!), seq: backlog.seq }) });
            return;
          }
          for (const event of backlog.events) if (event.seq > sent[index]!) await write(index, event);
        };
        const ready = names.length === 1 ? { seq: sent[0] } : { streams: Object.fromEntries(names.map((n, i) => [publicStreamName(n), sent[i]])) };
        await stream.writeSSE({ event: 'ready', data: JSON.stringify(ready), retry: 2000 });
        for (let i = 0; i < names.length; i++) await catchUp(i);
        while (!control.signal.aborted) {
          while (queue.length > 0 && !control.signal.aborted) {
            const { index, signal } = queue.shift()!;
            if (signal.type === 'resync') await catchUp(index);
            else if (signal.seq === sent[index]! + 1) await write(index, signal);
            else if (signal.seq > sent[index]! + 1) await catchUp(index);
          }
          if (control.signal.aborted) break;
          const woke = await new Promise<boolean>((resolve) => {
            const finish = (woken: boolean) => {
              clearTimeout(timer);
              control.signal.removeEventListener('abort', onAbort);
              wake = null;
              resolve(woken);
            };
            const onAbort = () => finish(true);
            const timer = setTimeout(() => finish(false), heartbeatMs);
            wake = () => finish(true);
            control.signal.addEventListener('abort', onAbort, { once: true });
          });
          if (!woke) await stream.write(': keep-alive\n\n');
        }
      } catch (error) {
        if (!control.signal.aborted) logger.warn(`local chat: event stream ${names.join(',')} ended`, error);
      } finally {
        for (const unsubscribe of unsubscribes) unsubscribe();
        streams.delete(control);
      }
    });
  }

  /** `?streams=channel:general,thread:t_abc`: the page's single connection. */
  app.get('/api/events', async (c) => {
    const requested = (c.req.query('streams') ?? '').split(',').filter(Boolean);
    if (requested.length === 0 || requested.length > 4) return fail(c, 400, 'bad_input', 'Name 1 to 4 streams, like ?streams=channel:general,thread:t_abc.');
    const names: StreamName[] = [];
    for (const item of requested) {
      const [kind, id = ''] = item.split(/:(.*)/s);
      if (kind === 'channel' && isChannelId(id) && (await store.getChannel(id))) names.push(`c:${id}`);
      else if (kind === 'thread' && (await adapter.findThread(id))) names.push(`t:${id}`);
      else return fail(c, 404, 'not_found', `There is no ${kind === 'thread' ? 'such thread' : kind === 'channel' ? 'such channel' : `stream "${item.slice(0, 40)}"`}.`);
    }
    if (new Set(names).size !== names.length) return fail(c, 400, 'bad_input', 'Name each stream only once.');
    return streamEvents(c, names);
  });

  app.get('/api/threads/:id/events', async (c) => {
    const thread = await threadOr404(c);
    if (thread instanceof Response) return thread;
    return streamEvents(c, [`t:${thread.id}`]);
  });

  app.get('/api/channels/:id/events', async (c) => {
    const id = c.req.param('id');
    if (!isChannelId(id) || !(await store.getChannel(id))) return fail(c, 404, 'not_found', 'There is no such channel.');
    return streamEvents(c, [`c:${id}`]);
  });

  // ---- files and the page -----------------------------------------------------------------------

  const artifacts = artifactsRoute(adapter.files);
  app.on(['GET', 'HEAD'], '/artifacts/*', (c) => artifacts(c));

  const PAGE_CSP = [
    "default-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "style-src 'self'",
    "script-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

  const page = (file: string) => async (c: Context) => {
    c.header('Content-Security-Policy', PAGE_CSP);
    c.header('Cache-Control', 'no-cache');
    const response = await serveStatic({ path: join(publicDir, file) })(c, async () => {});
    return response ?? fail(c, 404, 'not_found', 'There is nothing at this address.');
  };
  app.get('/', page('index.html'));
  app.get('/static/:file{[a-z0-9-]+\\.(?:js|css|svg)}', (c) => page(c.req.param('file'))(c));

  return {
    app,
    closeStreams() {
      for (const control of streams) control.abort();
    },
  };
}
