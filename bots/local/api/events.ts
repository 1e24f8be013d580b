import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { isChannelId } from '../local-chat-adapter.ts';
import type { LiveSignal, StreamEvent, StreamName } from '../local-store.ts';
import { eventView, publicStreamName } from '../message-view.ts';
import { fail, type ApiContext } from './context.ts';
import { parseSeq } from './query.ts';

/**
 * Live events: Server-Sent Events of channels and threads, at /api/events (several streams on
 * one connection), /api/threads/:id/events and /api/channels/:id/events. `closeStreams` ends
 * every open one (a server cannot close while they are open).
 */
export function eventsApi(api: ApiContext): { app: Hono; closeStreams(): void } {
  const { adapter, store, logger } = api;
  const streams = new Set<AbortController>();
  const app = new Hono();

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
            const timer = setTimeout(() => finish(false), api.heartbeatMs);
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
  app.get('/events', async (c) => {
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

  app.get('/threads/:id/events', async (c) => {
    const thread = await api.threadOr404(c);
    if (thread instanceof Response) return thread;
    return streamEvents(c, [`t:${thread.id}`]);
  });

  app.get('/channels/:id/events', async (c) => {
    const id = c.req.param('id');
    if (!isChannelId(id) || !(await store.getChannel(id))) return fail(c, 404, 'not_found', 'There is no such channel.');
    return streamEvents(c, [`c:${id}`]);
  });

  return {
    app,
    closeStreams() {
      for (const control of streams) control.abort();
    },
  };
}
