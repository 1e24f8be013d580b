import { Hono } from 'hono';
import type { ReplyEvent } from '../../../src/core/ports/chat-adapter.ts';
import type { StoredThread } from '../local-store.ts';
import { localUser } from '../local-users.ts';
import { messageView, threadView } from '../message-view.ts';
import type { ApiContext } from './context.ts';
import { parseLimit } from './query.ts';
import { ReplyBody } from './request-schemas.ts';

/** /api/threads/:id: a thread's messages and session, and replying in it. Clicks are in ./actions.ts, live events in ./events.ts. */
export function threadsApi(api: ApiContext): Hono {
  const { adapter, store, logger } = api;
  const app = new Hono();

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

  app.post('/:id/messages', async (c) => {
    const thread = await api.threadOr404(c);
    if (thread instanceof Response) return thread;
    const body = await api.readBody(c, ReplyBody, 'The reply');
    if (body instanceof Response) return body;
    const user = localUser(body.user);
    // Resolved before the reply shows, so a refused image leaves nothing in the thread.
    const image = body.image === undefined ? undefined : await api.uploadOr4xx(c, user, body.image);
    if (image instanceof Response) return image;
    const event: ReplyEvent = {
      id: api.eventId('reply', user, body.id),
      platform: 'local',
      kind: 'reply',
      user,
      receivedAt: Date.now(),
      thread: adapter.threadRef(thread),
      text: body.text,
      ...(image && { attachments: [image] }),
    };
    await adapter.postUserReply(event.thread, user, body.text, event.id);
    return api.deliver(c, event, body.id !== undefined, thread.id);
  });

  app.get('/:id', async (c) => {
    const thread = await api.threadOr404(c);
    if (thread instanceof Response) return thread;
    const [snap, session] = await Promise.all([store.snapshot(`t:${thread.id}`, parseLimit(c.req.query('limit'), 500)), sessionOf(thread)]);
    return c.json({ thread: threadView(thread), messages: snap.messages.map((m) => messageView(m)), session, seq: snap.seq, total: snap.total });
  });

  app.get('/:id/session', async (c) => {
    const thread = await api.threadOr404(c);
    if (thread instanceof Response) return thread;
    return c.json({ session: await sessionOf(thread) });
  });

  return app;
}
