import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobQueue, RenderJob } from '../../src/core/ports/job-queue.ts';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import { FairShare } from '../../src/queue/fair-share.ts';
import { ModelQueues } from '../../src/queue/model-queues.ts';
import { modelQueueName } from '../../src/queue/model-queue-name.ts';
import { QueueKeys } from '../../src/queue/queue-keys.ts';
import { encodeFailure, type RenderResult } from '../../src/queue/job-wire.ts';
import { FakeJobQueue } from '../core/fakes/fake-queue.ts';
import { testQueue, waitFor } from '../workers/fixtures/redis-test-env.ts';
import { runJobQueueConformance, type JobQueueFixture, type PlayedJob } from './job-queue.conformance.ts';

// BullMQ on real Redis, a queue name and prefix of its own per test. The worker side is a bare
// BullMQ Worker fetching jobs by hand (no processor), reporting and ending them the way
// workers/render-processor.ts and workers/worker.ts do: progress payloads, failures encoded as
// "[code] sentence" in UnrecoverableErrors, and fair-share settling after each end.
runJobQueueConformance('BullmqJobQueue (real Redis)', async () => {
  const env = testQueue();
  const queue = new BullmqJobQueue({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, positionDebounceMs: 10, backoffMs: 1, onError: () => {} });
  return bullmqFixture(env, queue, env.queueName);
});

// One queue per model: jobs that name no model go to the default model's queue, which is the
// one the bare worker serves here.
runJobQueueConformance('ModelQueues (real Redis)', async () => {
  const env = testQueue();
  const queue = new ModelQueues({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, positionDebounceMs: 10, backoffMs: 1, onError: () => {}, defaultModel: 'shapes-v1' });
  return bullmqFixture(env, queue, modelQueueName(env.queueName, 'shapes-v1'));
});

function bullmqFixture(env: ReturnType<typeof testQueue>, queue: JobQueue & { eventsReady(): Promise<void> }, served: string): JobQueueFixture {
  const keys = new QueueKeys(env.prefix, served);
  const worker = new Worker<RenderJob, RenderResult>(served, null, { connection: env.redis, prefix: env.prefix, autorun: false });
  worker.on('error', () => {});
  const redis = new Redis(env.redis);
  const fair = new FairShare(redis, keys);

  const played = (job: Job<RenderJob, RenderResult>, token: string): PlayedJob => {
    const jobId = job.id!;
    const end = async (finish: () => Promise<unknown>) => {
      await finish();
      await fair.settle(jobId);
    };
    return {
      jobId,
      progress: (step, totalSteps) => job.updateProgress({ kind: 'step', step, totalSteps }),
      complete: (result) => end(() => job.moveToCompleted(result, token, false)),
      fail: (error) => end(() => job.moveToFailed(new UnrecoverableError(encodeFailure(error.code, error.message)), token, false)),
      failForRetry: async (error) => {
        // As render-processor.ts: announce the retry, then hand the attempt back to BullMQ.
        await job.updateProgress({ kind: 'retrying', code: error.code, message: error.message });
        await job.moveToFailed(new Error(encodeFailure(error.code, error.message)), token, false);
      },
      cancelRequested: async () => (await redis.exists(keys.cancelFlag(jobId))) === 1,
      stopCancelled: () => end(() => job.moveToFailed(new UnrecoverableError(encodeFailure('cancelled', 'The render was cancelled.')), token, false)),
    };
  };

  return {
    queue,
    perPersonCap: 3,
    async take(workerId) {
      const token = randomUUID();
      const job = await waitFor(() => worker.getNextJob(token, { block: false }), 5000, 'a job to take');
      await job.updateProgress({ kind: 'started', workerId, attempt: job.attemptsMade + 1 });
      return played(job, token);
    },
    eventsReady: () => queue.eventsReady(),
    async cleanup() {
      await worker.close();
      redis.disconnect();
      await env.cleanup();
    },
  };
}

// The fake the core tests run on; its worker side is `emit`.
runJobQueueConformance('FakeJobQueue', async () => {
  const queue = new FakeJobQueue();
  const attempts = new Map<string, number>();
  return {
    queue,
    perPersonCap: queue.perPersonCap,
    async take(workerId) {
      const [jobId] = queue.waitingOrder();
      if (!jobId) throw new Error('no waiting job to take');
      const attempt = (attempts.get(jobId) ?? 0) + 1;
      attempts.set(jobId, attempt);
      queue.emit({ type: 'started', jobId, workerId, attempt });
      return {
        jobId,
        progress: async (step, totalSteps) => queue.emit({ type: 'progress', jobId, step, totalSteps }),
        complete: async (result) => queue.emit({ type: 'completed', jobId, ...result }),
        fail: async (error) => queue.emit({ type: 'failed', jobId, error, willRetry: false }),
        failForRetry: async (error) => queue.emit({ type: 'failed', jobId, error, willRetry: true }),
        cancelRequested: async () => queue.cancelRequested(jobId),
        stopCancelled: async () => queue.emit({ type: 'cancelled', jobId }),
      };
    },
    eventsReady: async () => {},
    cleanup: async () => {},
  };
});
