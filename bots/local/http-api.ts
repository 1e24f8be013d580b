import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Hono, type Context } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { INTERNAL_MESSAGE } from '../../src/core/outcome.ts';
import { isDailiesError } from '../../src/errors.ts';
import type { Logger } from '../../src/core/ports/logger.ts';
import { processLogger } from '../../src/logging/logger.ts';
import { UNREACHABLE_MESSAGE, isRedisUnreachable } from '../../src/redis/unreachable.ts';
import { ADMIN_QUEUES_PATH, adminQueuesRoutes, type AdminQueuesOptions } from './admin-queues.ts';
import { actionsApi } from './api/actions.ts';
import { channelsApi } from './api/channels.ts';
import { commandsApi } from './api/commands.ts';
import { ApiContext, STATUS_BY_CODE, fail } from './api/context.ts';
import { credentialsApi } from './api/credentials.ts';
import { eventsApi } from './api/events.ts';
import { galleryApi } from './api/gallery.ts';
import { healthApi } from './api/health.ts';
import { threadsApi } from './api/threads.ts';
import { uploadsApi } from './api/uploads.ts';
import { artifactsRoute } from './artifact-files.ts';
import { CredentialsChecker } from './credentials.ts';
import { credentialsPageRoute } from './credentials-page.ts';
import { galleryPageRoute } from './gallery-page.ts';
import type { GalleryAccess } from './api/gallery.ts';
import type { LocalChatAdapter } from './local-chat-adapter.ts';

/**
 * The local chat's HTTP side: the JSON API the page (and scripts, and tests) talk to, its live
 * event streams, the artifact files and the page itself. Requests are the platform's events: each
 * POST is delivered to the core through the adapter and answered with the core's outcome.
 *
 * One Hono sub-app per resource in ./api (commands, threads, actions, channels, events, health,
 * credentials, uploads, gallery),
 * with the request bodies in ./api/request-schemas.ts; this file composes them and adds what
 * every request shares: error answers, security headers, the JSON-only rule, the page.
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
  logger?: Logger;
  /**
   * PEM certificate(s) whose signatures the Content Credentials routes report as `trusted` (the
   * signing identity's ca.pem). Without it a well-signed file reads `valid`.
   */
  trustAnchorsPem?: string;
  /** Served as GET /metrics (Prometheus text) when given: the bot process's metrics. */
  metrics?: MetricsText;
  /** Serves the queue dashboard at /admin/queues behind a token (admin-queues.ts); absent: no such route. */
  adminQueues?: AdminQueuesOptions;
  /** Reads channels' winning and finalized takes from the bot's session store: GET /gallery and /api/gallery; absent: no such routes. */
  gallery?: GalleryAccess;
}

/** What GET /metrics serves: text in the Prometheus exposition format and its content type. */
export interface MetricsText {
  text(): Promise<string>;
  contentType: string;
}

export interface LocalChatApi {
  app: Hono;
  /** Ends every open event stream (a server cannot close while they are open). */
  closeStreams(): void;
}

const UPLOADS_PATH = '/api/uploads';

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

export function createLocalChatApi(options: LocalChatApiOptions): LocalChatApi {
  const { adapter } = options;
  const logger = options.logger ?? processLogger().child({ platform: 'local' });
  const publicDir = options.publicDir ?? fileURLToPath(new URL('./public/', import.meta.url));
  const api = new ApiContext({
    adapter,
    logger,
    ackTimeoutMs: options.ackTimeoutMs ?? 10_000,
    bodyLimitBytes: options.bodyLimitBytes ?? 64 * 1024,
    heartbeatMs: options.heartbeatMs ?? 15_000,
  });
  const app = new Hono();

  app.onError((error, c) => {
    logger.error('local chat: request failed', error);
    if (isDailiesError(error)) return fail(c, STATUS_BY_CODE[error.code] ?? 500, error.code, error.message);
    if (isRedisUnreachable(error)) return fail(c, 503, 'unavailable', UNREACHABLE_MESSAGE);
    return fail(c, 500, 'internal', INTERNAL_MESSAGE);
  });
  app.notFound((c) => fail(c, 404, 'not_found', 'There is nothing at this address.'));

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
  });

  // Requiring a JSON content type makes cross-site form posts need a CORS preflight, which this
  // server never grants: another web page cannot act as a local chat user. Uploads require image
  // types instead, which need the same preflight (./api/uploads.ts).
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'POST' && c.req.path !== UPLOADS_PATH && !/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      return fail(c, 415, 'bad_input', 'Send the request body as JSON with Content-Type: application/json.');
    }
    return next();
  });

  const events = eventsApi(api);
  app.route('/api/commands', commandsApi(api));
  app.route('/api/threads', threadsApi(api));
  app.route('/api/threads', actionsApi(api));
  app.route('/api/channels', channelsApi(api));
  app.route('/api/health', healthApi(api));
  app.route(UPLOADS_PATH, uploadsApi(api));
  // Files up to the upload limit: every attachment the chat holds fits, and the wasm read is bounded.
  const credentials = new CredentialsChecker(adapter.files, {
    maxBytes: adapter.maxUploadBytes,
    ...(options.trustAnchorsPem !== undefined && { trustAnchorsPem: options.trustAnchorsPem }),
  });
  app.route('/api/credentials', credentialsApi(credentials));
  if (options.gallery) app.route('/api/gallery', galleryApi(options.gallery));
  app.route('/api', events.app);
  if (options.metrics) {
    const metrics = options.metrics;
    app.get('/metrics', async (c) => c.body(await metrics.text(), 200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }));
  }
  // Its own headers (CSP included): the page's PAGE_CSP is set on the page's routes only.
  if (options.adminQueues) app.route(ADMIN_QUEUES_PATH, adminQueuesRoutes(options.adminQueues));

  // ---- files and the page -----------------------------------------------------------------------

  const artifacts = artifactsRoute(adapter.files);
  app.on(['GET', 'HEAD'], '/artifacts/*', (c) => artifacts(c));
  app.get('/credentials/*', credentialsPageRoute(credentials));
  if (options.gallery) {
    const { store } = adapter;
    app.get('/gallery', galleryPageRoute(options.gallery, async () => {
      await adapter.open();
      return (await store.listChannels()).map((channel) => channel.id);
    }));
  }

  const page = (file: string) => async (c: Context) => {
    c.header('Content-Security-Policy', PAGE_CSP);
    c.header('Cache-Control', 'no-cache');
    const response = await serveStatic({ path: join(publicDir, file) })(c, async () => {});
    return response ?? fail(c, 404, 'not_found', 'There is nothing at this address.');
  };
  app.get('/', page('index.html'));
  app.get('/static/:file{[a-z0-9-]+\\.(?:js|css|svg)}', (c) => page(c.req.param('file'))(c));

  return { app, closeStreams: events.closeStreams };
}
