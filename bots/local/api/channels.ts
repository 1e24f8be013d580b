import { Hono } from 'hono';
import { isChannelId } from '../local-chat-adapter.ts';
import { channelView, messageView } from '../message-view.ts';
import { fail, type ApiContext } from './context.ts';
import { parseLimit } from './query.ts';
import { ChannelBody } from './request-schemas.ts';

/** /api/channels: listing and creating channels, and a channel's session roots with their reply counts. */
export function channelsApi(api: ApiContext): Hono {
  const { adapter, store } = api;
  const app = new Hono();

  app.get('/', async (c) => {
    await adapter.open();
    return c.json({ channels: (await store.listChannels()).map(channelView) });
  });

  app.post('/', async (c) => {
    const body = await api.readBody(c, ChannelBody, 'The channel');
    if (body instanceof Response) return body;
    const existed = await store.getChannel(body.name);
    const channel = existed ?? (await adapter.createChannel(body.name));
    return c.json({ channel: channelView(channel) }, existed ? 200 : 201);
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    const channel = isChannelId(id) ? await store.getChannel(id) : null;
    if (!channel) return fail(c, 404, 'not_found', 'There is no such channel.');
    const snap = await store.snapshot(`c:${id}`, parseLimit(c.req.query('limit'), 200));
    const sizes = await store.threadSizes(snap.messages.filter((m) => m.root && m.threadId).map((m) => m.threadId!));
    const messages = snap.messages.map((m) => messageView(m, m.root && m.threadId ? Math.max(0, (sizes.get(m.threadId) ?? 1) - 1) : undefined));
    return c.json({ channel: channelView(channel), messages, seq: snap.seq, total: snap.total });
  });

  return app;
}
