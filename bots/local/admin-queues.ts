import { createHash, timingSafeEqual } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Hono, type Context } from 'hono';

/**
 * The operators' queue dashboard: bull-board at /admin/queues on the web chat's port, behind
 * DAILIES_ADMIN_TOKEN. A browser asks for it with HTTP Basic (any user name, the token as the
 * password) and then sends it with every request the page makes; scripts may send
 * `Authorization: Bearer <token>`. bull-board is imported on the first authorised request, so a
 * bot without the token (where this is not mounted at all) never loads it.
 *
 * Read-only unless `write`: then every request but GET and HEAD is refused here, whatever
 * bull-board's own per-route checks say. With `write`, changes must come from the dashboard's
 * own page (a browser resends Basic credentials on a cross-site request too, so another page's
 * form must not reach the queue), and adding jobs stays off: a render enters the queue through
 * a chat, which checks it and counts it against its owner's cap.
 */

export const ADMIN_QUEUES_PATH = '/admin/queues';

export interface AdminQueuesOptions {
  /** DAILIES_ADMIN_TOKEN. */
  token: string;
  /** DAILIES_ADMIN_WRITE=on: jobs may be removed, retried and cleaned from the dashboard. */
  write: boolean;
  /** The queues shown, read on every request (ModelQueues.dashboardQueues(): one per model). */
  queues: () => Queue[];
}

// bull-board's page has inline styles and links Google Fonts; the fonts are left out (an admin
// page makes no third-party requests), which falls back to system fonts.
const ADMIN_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "script-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CHALLENGE = 'Basic realm="dailies admin", charset="UTF-8"';

/** The routes under ADMIN_QUEUES_PATH, to mount there (`app.route(ADMIN_QUEUES_PATH, …)`). */
export function adminQueuesRoutes(options: AdminQueuesOptions): Hono {
  const expected = digest(options.token);
  const app = new Hono();
  let board: Promise<Hono> | undefined;

  app.use('*', async (c, next) => {
    if (!authorised(c.req.header('authorization'), expected)) {
      c.header('WWW-Authenticate', CHALLENGE);
      return refuse(c, 401, 'The queue dashboard needs the admin token (DAILIES_ADMIN_TOKEN) as the password.');
    }
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD') {
      if (!options.write) return refuse(c, 405, 'The queue dashboard is read-only; set DAILIES_ADMIN_WRITE=on to change jobs from it.');
      if (!sameOrigin(c)) return refuse(c, 403, "Changes to the queue are taken from the dashboard's own page only.");
      if (method === 'POST' && /\/add\/?$/.test(c.req.path)) return refuse(c, 405, 'Renders enter the queue through a chat, not the dashboard.');
    }
    await next();
    c.header('Content-Security-Policy', ADMIN_CSP);
    c.header('Cache-Control', 'no-store');
  });

  app.all('*', async (c) => {
    board ??= loadBoard(options);
    return (await board).fetch(c.req.raw);
  });
  return app;
}

async function loadBoard(options: AdminQueuesOptions): Promise<Hono> {
  const [{ createBullBoard }, { BullMQAdapter }, { HonoAdapter }, { serveStatic }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/hono'),
    import('@hono/node-server/serve-static'),
  ]);
  const server = new HonoAdapter(serveStatic).setBasePath(ADMIN_QUEUES_PATH);
  const adapt = (queues: Queue[]) => queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: !options.write, allowRetries: options.write }));
  let shown = options.queues();
  const board = createBullBoard({ queues: adapt(shown), serverAdapter: server, options: { uiConfig: { boardTitle: 'dailies queues' } } });
  const app = new Hono();
  // One queue per model, and a model's queue opens when its first worker is seen: the board
  // follows the set on every request instead of keeping the one it started with.
  app.use('*', async (_c, next) => {
    const now = options.queues();
    if (now.length !== shown.length || now.some((q, i) => q !== shown[i])) {
      shown = now;
      board.replaceQueues(adapt(now));
    }
    await next();
  });
  app.route(ADMIN_QUEUES_PATH, server.registerPlugin());
  app.notFound((c) => refuse(c, 404, 'There is nothing at this address.'));
  // Up to the web chat's own error handler (logged, one sentence).
  app.onError((error) => {
    throw error;
  });
  return app;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The token from `Basic base64(user:token)` or `Bearer token`, compared in constant time. */
function authorised(header: string | undefined, expected: Buffer): boolean {
  const match = /^(Basic|Bearer)\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  let given = match[2]!;
  if (match[1]!.toLowerCase() === 'basic') {
    const pair = Buffer.from(given, 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    if (colon < 0) return false;
    given = pair.slice(colon + 1);
  }
  return timingSafeEqual(digest(given), expected);
}

/** A browser names the page a change came from; a request without Origin is a script's. */
function sameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === c.req.header('host');
  } catch {
    return false;
  }
}

function refuse(c: Context, status: 401 | 403 | 404 | 405, message: string): Response {
  return c.json({ error: { code: status === 404 ? 'not_found' : 'forbidden', message } }, status);
}
