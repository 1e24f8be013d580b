import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent, RenderJob } from '../../src/core/ports/job-queue.ts';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import { FairShare } from '../../src/queue/fair-share.ts';
import type { ProgressPayload, RenderResult } from '../../src/queue/job-wire.ts';
import { renderJob, sleep, testQueue, waitFor } from '../workers/fixtures/redis-test-env.ts';
import { Redis } from 'ioredis';

// The queue's side of a chain handing its worker back between segments, with a bare BullMQ worker
// doing what the render processor does (workers/render-processor.ts `between`): how the bots show
// it, where fair share puts it, and how /cancel ends it while it waits.
describe('chain turns on BullMQ', () => {
  const env = testQueue();
  let queue: BullmqJobQueue;
  let redis: Redis;
  let fair: FairShare;
  let bull: Queue;
  const events: JobEvent[] = [];
  const of = (jobId: string) => events.filter((e) => e.jobId === jobId);

  beforeAll(async () => {
    queue = new BullmqJobQueue({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, positionDebounceMs: 10, onError: () => {} });
    queue.onEvent((e) => events.push(e));
    await queue.eventsReady();
    redis = new Redis(env.redis);
    fair = new FairShare(redis, queue.keys);
    bull = new Queue(env.queueName, { connection: env.redis, prefix: env.prefix });
  });
  afterAll(async () => {
    await bull.close();
    await queue.close();
    redis.disconnect();
    await env.cleanup();
  });

  /**
   * Runs the first job it gets for one turn: started, a step, then (after `beforeYield`) hands it
   * back due in `dueInMs`.
   */
  async function oneTurn(dueInMs: number, beforeYield: () => Promise<void>): Promise<string> {
    let taken: string | undefined;
    const worker = new Worker<RenderJob, RenderResult>(
      env.queueName,
      async (job: Job<RenderJob, RenderResult>, token?: string) => {
        taken = job.id!;
        const send = (p: ProgressPayload) => job.updateProgress(p);
        await send({ kind: 'started', workerId: 'bare', attempt: 1 });
        await send({ kind: 'step', step: 10, totalSteps: 10, segment: 1, segments: 5 });
        await beforeYield();
        await send({ kind: 'yielded', segment: 1, segments: 5, activeMs: 100 });
        await fair.requeue(job.id!, job.processedOn!);
        await job.moveToDelayed(Date.now() + dueInMs, token);
        // One turn only: no next job for this worker.
        await worker.pause(true);
        throw new DelayedError();
      },
      { connection: env.redis, prefix: env.prefix, autorun: false },
    );
    void worker.run();
    await waitFor(() => taken, 10_000, 'a job taken');
    // Long enough for the hand-back to happen; then stop taking jobs.
    await waitFor(async () => (await bull.getJobState(taken!)) === 'delayed', 10_000, 'the hand-back');
    await worker.close();
    return taken!;
  }

  it('shows a chain between segments as rendering: no failure, no place in line, still outstanding', async () => {
    const chain = renderJob({ userId: 'turns-a', channelKey: 'local:turns' });
    const other = renderJob({ userId: 'turns-b', channelKey: 'local:turns' });
    await queue.enqueue(chain);
    const band = async (jobId: string) => Number(await redis.hget(queue.keys.base + jobId, 'priority'));
    // Someone else's first job arrives while the chain runs: in the same channel it is behind the
    // chain's band (the chain came first) until the chain hands its worker back.
    let before = 0;
    const taken = await oneTurn(60_000, async () => {
      await queue.enqueue(other);
      before = await band(other.jobId);
    });
    expect(taken).toBe(chain.jobId);
    expect(before).toBe(2);
    expect(await band(other.jobId)).toBe(1);
    expect(await band(chain.jobId)).toBe(2);
    await sleep(200);
    // (A place in line before its start may or may not have been announced in time.)
    const shown = of(chain.jobId).filter((e) => e.type !== 'queued' || of(chain.jobId).indexOf(e) > of(chain.jobId).findIndex((x) => x.type === 'started'));
    expect(shown.map((e) => e.type)).toEqual(['started', 'progress']);
    expect(shown[1]).toMatchObject({ segment: 1, segments: 5 });
    const status = await queue.status(chain.jobId);
    expect(status).toMatchObject({ state: 'active', position: null });
    expect(await queue.fair.outstanding('turns-a')).toEqual([chain.jobId]);
    expect(await queue.outcome(chain.jobId)).toEqual({ state: 'pending' });

    expect((await queue.waitingOrder()).map((p) => p.jobId)).toEqual([other.jobId]);
    // Its time comes (BullMQ promotes it into its band): in line behind the newcomer, never announced as queued.
    await (await bull.getJob(chain.jobId))!.promote();
    expect(await bull.getJobState(chain.jobId)).toBe('prioritized');
    expect(await queue.waitingOrder()).toMatchObject([{ jobId: other.jobId, position: 1 }, { jobId: chain.jobId, position: 2, betweenTurns: true }]);
    expect((await queue.status(chain.jobId)).state).toBe('active');
    await sleep(200);
    const sinceStart = of(chain.jobId).slice(of(chain.jobId).findIndex((e) => e.type === 'started'));
    expect(sinceStart.filter((e) => e.type === 'queued')).toEqual([]);

    // /cancel while it waits: ended at once, as cancelled, on the queue's own record.
    expect(await queue.cancel(chain.jobId)).toBe(true);
    await waitFor(() => of(chain.jobId).some((e) => e.type === 'cancelled'), 5_000, 'the cancelled event');
    expect(of(chain.jobId).filter((e) => e.type === 'failed')).toEqual([]);
    expect(await queue.outcome(chain.jobId)).toEqual({ state: 'ended', event: { type: 'cancelled', jobId: chain.jobId } });
    expect((await queue.status(chain.jobId)).state).toBe('cancelled');
    expect(await bull.getJobState(chain.jobId)).toBe('failed');
    expect(await queue.fair.outstanding('turns-a')).toEqual([]);
    // The job that never started is still simply removed.
    expect(await queue.cancel(other.jobId)).toBe(true);
    expect(await bull.getJobState(other.jobId)).toBe('unknown');
  });
});
