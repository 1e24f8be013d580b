// Live updates over Server-Sent Events. The page keeps ONE connection for all it shows (the
// channel and the open thread): browsers allow six HTTP/1.1 connections per host, and a few tabs
// with two streams each would starve every other request. EventSource reconnects by itself and
// sends the last event id, which lists every stream's position, so nothing is missed.

const TYPES = ['message.posted', 'message.edited', 'thread.updated', 'reset'];

export function createHub({ onConnected } = {}) {
  const subscriptions = new Map(); // "channel:general" -> { after, handlers }
  let source = null;
  let pending = false;

  function reopen() {
    // Coalesce: opening a channel and a thread together makes one connection, not two.
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      source?.close();
      source = null;
      if (subscriptions.size === 0) return;
      const keys = [...subscriptions.keys()];
      const streams = keys.map(encodeURIComponent).join(',');
      const after = keys.map((k) => subscriptions.get(k).after).join('.');
      source = new EventSource(`/api/events?streams=${streams}&after=${after}`);
      for (const type of TYPES) source.addEventListener(type, (event) => dispatch(type, event));
      source.addEventListener('open', () => onConnected?.(true));
      source.addEventListener('error', () => onConnected?.(source?.readyState === EventSource.OPEN));
    });
  }

  function dispatch(type, event) {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    const subscription = subscriptions.get(data.stream);
    if (!subscription) return;
    if (Number.isInteger(data.seq)) subscription.after = data.seq;
    subscription.handlers[type]?.(data);
  }

  return {
    /** Follows a stream from `after` (the `seq` of its snapshot); returns the unsubscribe function. */
    subscribe(stream, after, handlers) {
      const subscription = { after, handlers };
      subscriptions.set(stream, subscription);
      reopen();
      return () => {
        if (subscriptions.get(stream) !== subscription) return;
        subscriptions.delete(stream);
        reopen();
      };
    },
  };
}
