import { Hono } from 'hono';
import type { ApiContext } from './context.ts';

const HEALTH_DEADLINE_MS = 500;

/** `work`, or a rejection with `message` once `ms` pass (the work itself is left to finish). */
function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** GET /api/health: 200 while Redis answers, 503 with the reason when it does not. */
export function healthApi(api: ApiContext): Hono {
  const { adapter, store } = api;
  const app = new Hono();

  app.get('/', async (c) => {
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
    const frameCheck = adapter.hooks.frameCheck?.();
    const promptCheck = adapter.hooks.promptCheck?.();
    // maxImageBytes: the page offers image uploads only when the server takes them.
    const images = adapter.uploads.enabled ? { maxImageBytes: adapter.uploads.maxBytes } : {};
    return c.json({ ok, platform: 'local', running: adapter.running, redis, maxUploadBytes: adapter.maxUploadBytes, ...images, ...(frameCheck ? { frameCheck } : {}), ...(promptCheck ? { promptCheck } : {}) }, ok ? 200 : 503);
  });

  return app;
}
