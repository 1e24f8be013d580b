import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { Redis } from 'ioredis';
import type { ArtifactReader } from '../../src/core/ports/artifact-store.ts';
import type { ChatEventHandler } from '../../src/core/ports/chat-adapter.ts';
import type { GalleryAccess } from './api/gallery.ts';
import { acceptLocalChatOrigin } from '../../src/safety/attachment-check.ts';
import type { AdminQueuesOptions } from './admin-queues.ts';
import { createLocalChatApi, type MetricsText } from './http-api.ts';
import { LocalChatAdapter, type LocalChatHooks } from './local-chat-adapter.ts';

export interface StartLocalChatOptions {
  /** Default 8080; 0 picks a free port (tests). */
  port?: number;
  /** Default 127.0.0.1: the local chat has no accounts, so it is not exposed unless asked (Docker: 0.0.0.0). */
  hostname?: string;
  /** A connection to share (left open on close) or a URL to connect to (closed on close). */
  redis: Redis | string;
  /**
   * The ArtifactStore the workers write to; attachments are served from it as /artifacts/<key>. Given
   * the whole store (not only its reading half), it also keeps the images people upload to animate.
   */
  artifacts?: ArtifactReader;
  /** Without `artifacts`: the filesystem store's folder (ARTIFACTS_DIR). */
  artifactsDir?: string;
  /** The core's handler; without it, the page loads but events answer "not running" until `adapter.start`. */
  handler?: ChatEventHandler;
  hooks?: LocalChatHooks;
  /** Display names that moderate (DAILIES_LOCAL_MODERATORS); default: nobody. */
  moderators?: readonly string[];
  prefix?: string;
  maxUploadBytes?: number;
  defaultChannels?: string[];
  eventLogSize?: number;
  ackTimeoutMs?: number;
  heartbeatMs?: number;
  publicDir?: string;
  /** PEM certificate(s) (the signing identity's ca.pem): Content Credentials signed under them show as trusted. */
  trustAnchorsPem?: string;
  /** Served as GET /metrics (the bot process's Prometheus metrics); absent: no such route. */
  metrics?: MetricsText;
  /** The queue dashboard at /admin/queues (DAILIES_ADMIN_TOKEN); absent: no such route. */
  adminQueues?: AdminQueuesOptions;
  /** Channels' winning and finalized takes (`readGallery` over the bot's session store), served as GET /gallery and /api/gallery; absent: no such routes. */
  gallery?: GalleryAccess;
  logger?: Pick<Console, 'warn' | 'error'>;
}

export interface LocalChat {
  adapter: LocalChatAdapter;
  app: Hono;
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Lends the core's session summary, command list or action matcher after the fact. */
  setHooks(hooks: LocalChatHooks): void;
  close(): Promise<void>;
}

/** Serves the local web chat: `dailies start` calls this, then hands `adapter` to the core, which calls `adapter.start(handler)`. */
export async function startLocalChat(options: StartLocalChatOptions): Promise<LocalChat> {
  const ownsRedis = typeof options.redis === 'string';
  const redis = typeof options.redis === 'string' ? new Redis(options.redis, { maxRetriesPerRequest: null }) : options.redis;
  const adapter = new LocalChatAdapter({
    redis,
    ...(options.artifacts !== undefined && { artifacts: options.artifacts }),
    ...(options.artifactsDir !== undefined && { artifactsDir: options.artifactsDir }),
    ...(options.prefix !== undefined && { prefix: options.prefix }),
    ...(options.moderators !== undefined && { moderators: options.moderators }),
    ...(options.maxUploadBytes !== undefined && { maxUploadBytes: options.maxUploadBytes }),
    ...(options.defaultChannels !== undefined && { defaultChannels: options.defaultChannels }),
    ...(options.eventLogSize !== undefined && { eventLogSize: options.eventLogSize }),
    ...(options.logger !== undefined && { logger: options.logger }),
    hooks: { ...options.hooks },
  });
  let api: ReturnType<typeof createLocalChatApi>;
  try {
    // Throws for trust anchors that hold no certificate.
    api = createLocalChatApi({
      adapter,
      ...(options.ackTimeoutMs !== undefined && { ackTimeoutMs: options.ackTimeoutMs }),
      ...(options.heartbeatMs !== undefined && { heartbeatMs: options.heartbeatMs }),
      ...(options.publicDir !== undefined && { publicDir: options.publicDir }),
      ...(options.trustAnchorsPem !== undefined && { trustAnchorsPem: options.trustAnchorsPem }),
      ...(options.metrics !== undefined && { metrics: options.metrics }),
      ...(options.adminQueues !== undefined && { adminQueues: options.adminQueues }),
      ...(options.gallery !== undefined && { gallery: options.gallery }),
      ...(options.logger !== undefined && { logger: options.logger }),
    });
    await adapter.open();
    if (options.handler) await adapter.start(options.handler);
  } catch (error) {
    await adapter.stop();
    if (ownsRedis) redis.disconnect();
    throw error;
  }

  const server = createAdaptorServer({ fetch: api.app.fetch }) as Server;
  const hostname = options.hostname ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await adapter.stop();
    if (ownsRedis) redis.disconnect();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const host = hostname.includes(':') ? `[${hostname}]` : hostname === '0.0.0.0' ? '127.0.0.1' : hostname;
  const url = `http://${host}:${port}`;
  // Images for "animate this" on the local platform may come from this chat's own address only.
  const withdrawOrigin = acceptLocalChatOrigin(url);
  adapter.uploads.serveFrom(url);

  let closing: Promise<void> | null = null;
  return {
    adapter,
    app: api.app,
    url,
    setHooks(hooks) {
      Object.assign(adapter.hooks, hooks);
    },
    close() {
      closing ??= (async () => {
        withdrawOrigin();
        adapter.uploads.serveFrom(null);
        api.closeStreams();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Give aborted event streams a moment to end cleanly before cutting what is left.
        const timer = setTimeout(() => server.closeAllConnections(), 1000);
        await closed;
        clearTimeout(timer);
        await adapter.stop();
        if (ownsRedis) await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}
