import { randomFillSync, randomInt } from 'node:crypto';
import type { ChatAdapter, Platform } from './ports/chat-adapter.ts';

/**
 * The small injected capabilities of the core: time, ids, logging, adapters by platform, and
 * the knobs a server may turn. Tests swap each for a deterministic fake.
 */

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Timers are for rounds and throttled edits: they must never keep a stopping process alive.
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface IdSource {
  sessionId(): string;
  jobId(): string;
  /** A seed in 0..2^31-1. */
  seed(): number;
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

// Ids draw from one pooled buffer: a randomBytes call costs about as much as the rest of
// creating a session (it is a trip into OpenSSL and often the kernel), and each /video makes two ids.
const pool = Buffer.alloc(1024);
let used = pool.length;

function randomId(prefix: string, length: number): string {
  if (used + length > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  let out = prefix;
  for (let i = 0; i < length; i++) out += ALPHABET[pool[used + i]! % 32];
  used += length;
  return out;
}

/** Short ids: they end up inside button action keys, which Discord caps at 100 characters. */
export const randomIds: IdSource = {
  sessionId: () => randomId('s', 10),
  jobId: () => randomId('j', 12),
  seed: () => randomInt(0, 2 ** 31 - 1),
};

export { silentLogger, type Logger } from './ports/logger.ts';

export type AdapterDirectory = (platform: Platform) => ChatAdapter | undefined;

export function adapterDirectory(adapters: Partial<Record<Platform, ChatAdapter>> | readonly ChatAdapter[] | AdapterDirectory): AdapterDirectory {
  if (typeof adapters === 'function') return adapters;
  const map = new Map<Platform, ChatAdapter>();
  if (Array.isArray(adapters)) for (const a of adapters as readonly ChatAdapter[]) map.set(a.platform, a);
  else for (const [p, a] of Object.entries(adapters)) if (a) map.set(p as Platform, a);
  return (p) => map.get(p);
}

export interface CoreConfig {
  defaultTakes: number;
  maxTakes: number;
  /** How long a vote round stays open after the takes are posted. */
  voteWindowMs: number;
  /** Distinct voters that close a round early when one take leads; 0 disables. */
  quorum: number;
  /** How long an event id is remembered for deduplication (Slack retries within minutes). */
  eventTtlMs: number;
  /** Minimum time between edits of one message (Slack chat.update is ~50/min per workspace). */
  editIntervalMs: number;
  /** Frames per second used to turn `/video duration:` into frames. */
  fps: number;
  /** Longest video in seconds: a render, an extended take, a bridge with its ends, a storyboard's film. */
  maxSeconds: number;
  /** Frames the model makes in one window; what a take is assumed to hold when its result does not say. */
  windowFrames: number;
  defaultExtendFrames: number;
  /** Known frames carried across each join: chained segments, extensions, bridges. */
  extendOverlap: number;
  /** Storyboards: most shots in one. */
  maxShots: number;
  /** How strongly a vary keeps the take's picture (image strength). */
  varyStrength: number;
  /** Steps for a finalize render; undefined leaves the model's final-quality default. */
  finalSteps?: number;
  /** Whether finals' Content Credentials name people (false: "contributor 1", …). */
  creditNames: boolean;
  /** The web chat's public address (DAILIES_PUBLIC_URL), which links from other platforms lead to; absent: they cannot reach it. */
  publicUrl?: string;
  /** The secret gallery links from other platforms are keyed with (./gallery-links.ts); absent: such links carry no key and do not open. */
  galleryKey?: string;
}

export const DEFAULT_CONFIG: CoreConfig = {
  defaultTakes: 2,
  maxTakes: 4,
  voteWindowMs: 10 * 60_000,
  quorum: 3,
  eventTtlMs: 24 * 3600_000,
  editIntervalMs: 1500,
  fps: 8,
  maxSeconds: 60,
  windowFrames: 16,
  defaultExtendFrames: 16,
  extendOverlap: 4,
  maxShots: 12,
  creditNames: true,
  varyStrength: 0.6,
};

/** The longest video in frames at the configured rate. */
export function maxFramesOf(config: Pick<CoreConfig, 'fps' | 'maxSeconds'>): number {
  return Math.round(config.maxSeconds * config.fps);
}

/** Seconds as frames at the configured rate (at least one frame). */
export function framesOf(config: Pick<CoreConfig, 'fps'>, seconds: number): number {
  return Math.max(1, Math.round(seconds * config.fps));
}

/** Frames as seconds for people, e.g. "4 s" or "2.5 s". */
export function secondsText(config: Pick<CoreConfig, 'fps'>, frames: number): string {
  return `${Number((frames / config.fps).toFixed(1))} s`;
}
