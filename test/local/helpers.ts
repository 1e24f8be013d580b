import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startLocalChat, type LocalChat, type StartLocalChatOptions } from '../../bots/local/server.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const quietLogger = { warn: () => {}, error: () => {} };

export function randomPrefix(): string {
  return `test:local:${randomBytes(6).toString('hex')}:`;
}

export interface TestChat {
  chat: LocalChat;
  redis: Redis;
  prefix: string;
  artifactsDir: string;
  /** The filesystem artifact store in `artifactsDir`, which the chat serves from. */
  store: FsArtifactStore;
  /** Starts another server process object on the same Redis keys and directory (a restart). */
  restart(extra?: Partial<StartLocalChatOptions>): Promise<LocalChat>;
  cleanup(): Promise<void>;
}

/** A local chat on a free port with its own Redis prefix and artifacts directory. */
export async function startTestChat(options: Partial<StartLocalChatOptions> = {}): Promise<TestChat> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = randomPrefix();
  const artifactsDir = await mkdtemp(join(tmpdir(), 'dailies-local-'));
  const base = { port: 0, redis, prefix, artifactsDir, logger: quietLogger, ackTimeoutMs: 5000 };
  const chats: LocalChat[] = [];
  const chat = await startLocalChat({ ...base, ...options });
  chats.push(chat);
  return {
    chat,
    redis,
    prefix,
    artifactsDir,
    store: new FsArtifactStore({ root: artifactsDir }),
    async restart(extra = {}) {
      const next = await startLocalChat({ ...base, ...extra });
      chats.push(next);
      return next;
    },
    async cleanup() {
      for (const c of chats) await c.close();
      await deleteKeysStartingWith(redis, prefix);
      await redis.quit();
      await rm(artifactsDir, { recursive: true, force: true });
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/**
 * Reads a Server-Sent Events stream with fetch (EventSource is not in Node 20), collecting events
 * until `until` says stop or the timeout passes.
 */
export async function readSse(
  url: string,
  until: (events: SseEvent[]) => boolean,
  options: { headers?: Record<string, string>; timeoutMs?: number; onReady?: () => void | Promise<void> } = {},
): Promise<SseEvent[]> {
  const control = new AbortController();
  const timer = setTimeout(() => control.abort(), options.timeoutMs ?? 10_000);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers: options.headers ?? {}, signal: control.signal });
    if (!res.ok || !res.body) throw new Error(`SSE ${url} answered ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) continue;
        const event: SseEvent = { event: 'message', data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'event') event.event = value;
          else if (field === 'id') event.id = value;
          else if (field === 'data') data.push(value);
        }
        event.data = JSON.parse(data.join('\n'));
        events.push(event);
        if (event.event === 'ready') await options.onReady?.();
        if (until(events)) return events;
      }
    }
    return events;
  } catch (error) {
    if (control.signal.aborted) return events;
    throw error;
  } finally {
    clearTimeout(timer);
    control.abort();
  }
}
