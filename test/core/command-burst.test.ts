import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { RedisSessionStore } from '../../src/storage/redis-session-store.ts';
import type { SessionStore } from '../../src/core/ports/session-store.ts';
import { harness } from './fakes/harness.ts';

/**
 * 200 /video commands in flight at once, as the ack bench sends them (bench/ack-bench.ts,
 * where their speed is measured): every one is answered with a thread of its own, recorded once,
 * and queued once after the answers, on the memory store and on Redis.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BURST = 200;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function burst(store?: SessionStore): Promise<void> {
  const h = harness(store ? { store } : {});
  h.delivery.start();
  const events = Array.from({ length: BURST }, (_, i) => h.command('video', { prompt: `a red ball number ${i} bouncing on a white background`, takes: 2 }, { id: `u${i}`, name: `U${i}` }));
  const outcomes = await Promise.all(events.map((event) => h.core(event)));
  expect(outcomes.filter((o) => o.error)).toEqual([]);
  const threads = new Set(outcomes.map((o) => o.thread?.threadId));
  expect(threads.size).toBe(BURST);
  // Delivered again, each is a duplicate: answered with the thread it started, nothing new.
  const again = await Promise.all(events.slice(0, 20).map((event) => h.core(event)));
  expect(again.every((o) => o.thread !== undefined && o.ephemeral?.startsWith('That request was already taken'))).toBe(true);
  expect(new Set(again.map((o) => o.thread?.threadId)).size).toBe(20);

  await h.admission.idle();
  await h.delivery.idle();
  const jobIds = h.queue.jobs.map((j) => j.jobId);
  expect(new Set(jobIds).size).toBe(BURST);
  expect(jobIds).toHaveLength(BURST);
  for (const outcome of outcomes.slice(0, 10)) {
    const session = (await h.store.getByThread(outcome.thread!))!;
    expect(session.jobs).toHaveLength(1);
    expect(jobIds).toContain(session.jobs[0]!.jobId);
  }
  expect(await h.store.awaitingAdmission(Number.POSITIVE_INFINITY)).toEqual([]);
  await h.delivery.stop();
}

describe('a burst of 200 commands', () => {
  it('is answered, recorded and queued once each (memory store)', async () => {
    await burst();
  });

  it('is answered, recorded and queued once each (Redis store)', async () => {
    const redis = new Redis(REDIS_URL, { enableAutoPipelining: true });
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    cleanups.push(async () => {
      await deleteKeysStartingWith(redis, prefix);
      await redis.quit();
    });
    await burst(new RedisSessionStore({ redis, prefix }));
  });
});
