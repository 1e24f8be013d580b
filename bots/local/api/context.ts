import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { ChatEvent, ChatUser, EventOutcome, IncomingAttachment } from '../../../src/core/ports/chat-adapter.ts';
import { STILL_RUNNING, withinDeadline } from '../../../src/core/call-core.ts';
import { isDailiesError } from '../../../src/errors.ts';
import type { LocalChatAdapter } from '../local-chat-adapter.ts';
import type { LocalChatStore, StoredThread } from '../local-store.ts';
import { readRequestBody } from '../request-body.ts';
import { describeBodyError } from './request-schemas.ts';

/**
 * What the web chat API's sub-apps share: error answers, reading a JSON body, finding the thread
 * in the path, and delivering an event to the core through the adapter.
 */

export type ErrorStatus = 400 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

export const STATUS_BY_CODE: Record<string, ErrorStatus> = {
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

/** The error body every failing request gets: `{ error: { code, message } }`. */
export function fail(c: Context, status: ErrorStatus, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status);
}

export interface ApiSettings {
  adapter: LocalChatAdapter;
  ackTimeoutMs: number;
  bodyLimitBytes: number;
  heartbeatMs: number;
  logger: Pick<Console, 'warn' | 'error'>;
}

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

export class ApiContext {
  readonly adapter: LocalChatAdapter;
  readonly store: LocalChatStore;
  readonly logger: Pick<Console, 'warn' | 'error'>;
  readonly heartbeatMs: number;
  private readonly ackTimeoutMs: number;
  private readonly bodyLimitBytes: number;
  private readonly inflight = new Map<string, Promise<Reply>>();

  constructor(settings: ApiSettings) {
    this.adapter = settings.adapter;
    this.store = settings.adapter.store;
    this.logger = settings.logger;
    this.heartbeatMs = settings.heartbeatMs;
    this.ackTimeoutMs = settings.ackTimeoutMs;
    this.bodyLimitBytes = settings.bodyLimitBytes;
  }

  /** The body parsed by `schema`, or the 400/413 response to send instead. */
  async readBody<T>(c: Context, schema: z.ZodType<T>, what: string): Promise<T | Response> {
    const limit = this.bodyLimitBytes;
    const text = await readRequestBody({ incoming: (c.env as { incoming?: IncomingMessage } | undefined)?.incoming, fetchText: () => c.req.text() }, limit);
    if (text === 'too-large') {
      // The rest of the body is never read; a client must not send its next request on this connection.
      c.header('Connection', 'close');
      return fail(c, 413, 'bad_input', `The request body is larger than ${Math.round(limit / 1024)} KiB.`);
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

  /** The thread named by the path's `:id`, or a 404 response. */
  async threadOr404(c: Context): Promise<StoredThread | Response> {
    const thread = await this.adapter.findThread(c.req.param('id') ?? '');
    return thread ?? fail(c, 404, 'not_found', 'There is no such thread.');
  }

  /** The upload `key` as the attachment the core's image intake fetches, or the refusal to send instead (../uploads.ts). */
  async uploadOr4xx(c: Context, user: ChatUser, key: string): Promise<IncomingAttachment | Response> {
    try {
      return await this.adapter.uploads.attachment(user, key);
    } catch (error) {
      if (!isDailiesError(error)) throw error;
      return fail(c, STATUS_BY_CODE[error.code] ?? 400, error.code, error.message);
    }
  }

  /** Scoped by user: a client-chosen id can only ever collide with the same person's own retry. */
  eventId(kind: ChatEvent['kind'], user: ChatUser, id: string | undefined): string {
    return `local:${kind}:${user.id}:${id ?? randomUUID()}`;
  }

  /**
   * Delivers the event and answers with the core's outcome, or 202 {"pending":true} once
   * `ackTimeoutMs` passes (the core keeps working). Deliveries of one id run one after the other,
   * and every delivery reaches the core (which dedupes by id); a repeated id is answered with the
   * first delivery's response, so a retried request learns its thread.
   */
  async deliver(c: Context, event: ChatEvent, clientSupplied: boolean, formThread?: string): Promise<Response> {
    const { inflight, store } = this;
    const previous = inflight.get(event.id) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async (): Promise<Reply> => {
        const outcome = await withinDeadline(this.adapter.deliver(event), this.ackTimeoutMs);
        if (outcome === STILL_RUNNING) return { status: 202, body: { id: event.id, pending: true } };
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
}
