import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdmission } from '../../src/core/admission.ts';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { RedisSessionStore } from '../../src/storage/redis-session-store.ts';
import { testQueue, TEST_REDIS_URL } from '../workers/fixtures/redis-test-env.ts';
import { alice, harness, quietLog } from './fakes/harness.ts';

/**
 * A bot records a /video (session and job in Redis) and dies before the queue has the job. Two
 * bots that are still up sweep at the same moment: the job is queued on BullMQ exactly once.
 */
describe('admission on real Redis and BullMQ', () => {
  const env = testQueue();
  const storePrefix = `dtest-adm-${randomBytes(4).toString('hex')}:`;
  const clients: Redis[] = [];
  const queues: BullmqJobQueue[] = [];

  afterAll(async () => {
    for (const q of queues) await q.close();
    await deleteKeysStartingWith(clients[0]!, storePrefix);
    for (const c of clients) c.disconnect();
    await env.cleanup();
  });

  function bot() {
    const redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
    clients.push(redis);
    const store = new RedisSessionStore({ redis, prefix: storePrefix });
    const queue = new BullmqJobQueue({ redis: env.redis, queueName: env.queueName, prefix: env.prefix });
    queues.push(queue);
    return { store, queue, admission: createAdmission({ store, queue, delivery: { track: async () => {} }, log: quietLog, graceMs: 0 }) };
  }

  it('queues an abandoned job once however many bots sweep', async () => {
    const dying = bot();
    const dead = harness({ store: dying.store, core: { admission: { submit: () => {} } } });
    const out = await dead.core(dead.command('video', { prompt: 'a red circle moving left', takes: 2 }));
    expect(out.error).toBeUndefined();
    const jobId = (await dying.store.getByThread(out.thread!))!.jobs[0]!.jobId;
    expect((await dying.queue.status(jobId)).state).toBe('unknown');

    const [a, b] = [bot(), bot()];
    const swept = await Promise.all([a.admission.sweep(), b.admission.sweep()]);
    await Promise.all([a.admission.idle(), b.admission.idle()]);
    expect(swept[0]! + swept[1]!).toBeGreaterThanOrEqual(1);

    const order = await a.queue.waitingOrder();
    expect(order.map((p) => p.jobId)).toEqual([jobId]);
    expect(await a.queue.fair.outstanding(alice.id)).toEqual([jobId]);
    expect(await a.store.awaitingAdmission(Date.now())).toEqual([]);
    expect(await a.admission.sweep()).toBe(0);
    expect(await a.queue.cancel(jobId)).toBe(true);
  });
});
