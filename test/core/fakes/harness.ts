import { afterEach } from 'vitest';
import type { ActionEvent, ChatUser, CommandEvent, ReplyEvent, ThreadRef } from '../../../src/core/ports/chat-adapter.ts';
import type { TakeResult } from '../../../src/core/ports/job-queue.ts';
import type { ArtifactRef } from '../../../src/core/ports/artifact-store.ts';
import { createAdmission, type AdmissionDeps } from '../../../src/core/admission.ts';
import { commands } from '../../../commands/index.ts';
import { createCore, type CoreDeps } from '../../../src/core/app.ts';
import { createDelivery, type DeliveryDeps } from '../../../src/core/delivery.ts';
import type { IdSource, Logger } from '../../../src/core/runtime.ts';
import { MemorySessionStore } from '../../../src/storage/memory-session-store.ts';
import type { SessionStore } from '../../../src/core/ports/session-store.ts';
import { FakeAdapter } from './fake-adapter.ts';
import { FakeJobQueue } from './fake-queue.ts';
import { ManualClock } from './manual-clock.ts';

export function sequentialIds(): IdSource & { seeds: number[] } {
  let s = 0;
  let j = 0;
  const seeds: number[] = [];
  return {
    seeds,
    sessionId: () => `s${++s}`,
    jobId: () => `j${++j}`,
    seed: () => {
      const v = 1000 + seeds.length * 7;
      seeds.push(v);
      return v;
    },
  };
}

export const quietLog: Logger & { warnings: string[]; errors: string[] } = Object.assign(
  {
    warnings: [] as string[],
    errors: [] as string[],
  },
  {
    warn(message: string) {
      quietLog.warnings.push(message);
    },
    error(message: string) {
      quietLog.errors.push(message);
    },
  },
);

export const alice: ChatUser = { id: 'u-alice', name: 'Alice' };
export const bob: ChatUser = { id: 'u-bob', name: 'Bob' };
export const mod: ChatUser = { id: 'u-mod', name: 'Mo', canModerate: true };

export function artifact(key: string, bytes = 1000, contentType = 'video/mp4'): ArtifactRef {
  return { key, bytes, contentType };
}

export function takes(n: number, seed = 1000, bytes = 1000): TakeResult[] {
  return Array.from({ length: n }, (_, i) => ({ index: i, seed: seed + i, video: artifact(`v${i}.mp4`, bytes), preview: artifact(`p${i}.png`, 100, 'image/png') }));
}

export interface HarnessOptions {
  store?: SessionStore;
  core?: Partial<CoreDeps>;
  delivery?: Partial<DeliveryDeps>;
  admission?: Partial<AdmissionDeps>;
  maxUploadBytes?: number;
}

export function harness(options: HarnessOptions = {}) {
  const clock = new ManualClock();
  const store = options.store ?? new MemorySessionStore({ now: () => clock.now() });
  // A roomy per-person cap (DAILIES_MAX_OUTSTANDING): scenarios here keep several renders of one
  // person outstanding; the cap's own refusal is played with `queue.refuse`.
  const queue = new FakeJobQueue({ perPersonCap: 10 });
  const adapter = new FakeAdapter('local', options.maxUploadBytes);
  const ids = sequentialIds();
  const fitted: Array<{ key: string; max: number }> = [];
  const delivery = createDelivery({
    store,
    queue,
    adapters: [adapter],
    artifacts: { publicUrl: (ref) => `http://files.test/${ref.key}` },
    fitToSize: async (ref, max) => {
      fitted.push({ key: ref.key, max });
      return { ...ref, key: `${ref.key}.fit.mp4`, bytes: 5000 };
    },
    clock,
    log: quietLog,
    config: { quorum: 3, voteWindowMs: 600_000 },
    ...options.delivery,
  });
  const admission = createAdmission({ store, queue, delivery, clock, log: quietLog, ...options.admission });
  const core = createCore({ commands, store, queue, adapters: [adapter], delivery, admission, clock, ids, log: quietLog, config: { quorum: 3, voteWindowMs: 600_000 }, ...options.core });
  let n = 0;
  const base = () => ({ id: `e${++n}`, platform: 'local' as const, receivedAt: clock.now() });
  return {
    clock,
    store,
    queue,
    adapter,
    ids,
    fitted,
    delivery,
    admission,
    core,
    command(name: string, options: Record<string, unknown>, user: ChatUser = alice, thread?: ThreadRef): CommandEvent {
      return { ...base(), kind: 'command', user, channelId: 'c1', name, options, ...(thread ? { thread } : {}) };
    },
    reply(thread: ThreadRef, text: string, user: ChatUser = alice): ReplyEvent {
      return { ...base(), kind: 'reply', user, thread, text };
    },
    action(thread: ThreadRef, action: string, user: ChatUser = alice, values?: Record<string, string>): ActionEvent {
      return { ...base(), kind: 'action', user, thread, action, ...(values ? { values } : {}) };
    },
    /** Lets admission, delivery and the throttled editor finish everything due by now. */
    async settle(ms = 0): Promise<void> {
      await admission.idle();
      await delivery.idle();
      if (ms > 0) clock.advance(ms);
      await delivery.idle();
    },
  };
}

/**
 * Starts delivery and sends a /video, then settles: the thread and job the tests go on with.
 * Throws (failing the test) when the command was refused or made no job.
 */
export async function startVideo(
  h: ReturnType<typeof harness>,
  options: Record<string, unknown> = { prompt: 'a red ball bouncing', takes: 2 },
): Promise<{ thread: ThreadRef; jobId: string }> {
  h.delivery.start();
  const out = await h.core(h.command('video', options));
  if (out.error) throw new Error(`/video was refused: ${out.error.message}`);
  await h.settle();
  const job = h.queue.jobs.at(-1);
  if (!out.thread || !job) throw new Error('no thread or job');
  return { thread: out.thread, jobId: job.jobId };
}

export type Harness = ReturnType<typeof harness>;

/**
 * For a test file: `make()` gives a harness with delivery started, and every harness made is
 * stopped after each test (delivery keeps timers for vote rounds).
 */
export function startedHarnesses(): (options?: HarnessOptions) => Harness {
  let live: Harness[] = [];
  afterEach(async () => {
    await Promise.all(live.map((h) => h.delivery.stop()));
    live = [];
  });
  return (options) => {
    const h = harness(options);
    h.delivery.start();
    live.push(h);
    return h;
  };
}
