import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/core/ports/job-queue.ts';
import { planSegments } from '../../src/core/segment-plan.ts';
import { decodeClip } from '../../src/media/index.ts';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { ffmpegRenderMedia } from '../../workers/render-media.ts';
import { RenderWorker } from '../../workers/worker.ts';
import { countingBuiltinModel, type CountingModel } from './fixtures/builtin-model.ts';
import { ChildWorker } from './fixtures/child-worker.ts';
import { renderJob, sleep, testQueue, waitFor } from './fixtures/redis-test-env.ts';

// Chains on real Redis, BullMQ and the built-in model: a worker that dies mid-chain, a chain
// sharing one worker with someone else's short render, and /cancel while a chain waits in line
// between two segments.

const CHAIN_FRAMES = 76; // 16 + 5 x 12: six segments
const SEGMENTS = planSegments({ frames: CHAIN_FRAMES, window: 16, overlap: 4, headAvailable: 0, tailAvailable: 0 }).length;

describe('chains through the worker pool', () => {
  const env = testQueue();
  let dir: string;
  let store: FsArtifactStore;
  let model: CountingModel;
  let unload: () => Promise<void>;
  let queue: BullmqJobQueue;
  const events: JobEvent[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  const of = (jobId: string, type?: JobEvent['type']) => events.filter((e) => e.jobId === jobId && (!type || e.type === type));
  const segmentOf = (e: JobEvent) => (e.type === 'progress' ? (e.segment ?? 0) : 0);

  function startWorker(id: string, extra: Partial<ConstructorParameters<typeof RenderWorker>[0]> = {}): RenderWorker {
    const worker = new RenderWorker({
      redis: env.redis,
      queueName: env.queueName,
      prefix: env.prefix,
      workerId: id,
      createModel: async () => model,
      media: ffmpegRenderMedia(),
      store,
      progressIntervalMs: 0,
      log: () => {},
      ...extra,
    });
    cleanups.push(() => worker.close(1_000));
    return worker;
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-chain-queue-'));
    store = new FsArtifactStore({ root: dir });
    const loaded = await countingBuiltinModel({ outputSize: 64 });
    // Shared by the workers of these tests; closing a worker must not unload it.
    model = { ...loaded, dispose: async () => {} };
    unload = () => loaded.dispose();
    queue = new BullmqJobQueue({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, positionDebounceMs: 20, backoffMs: 100, onError: () => {} });
    queue.onEvent((e) => events.push(e));
    await queue.eventsReady();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await unload();
    await queue.close();
    await env.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('goes on from the last stored segment after its worker is killed (kill -9), with every frame', async () => {
    const child = new ChildWorker({
      redisUrl: env.url,
      queueName: env.queueName,
      prefix: env.prefix,
      artifactsDir: dir,
      workerId: 'doomed',
      model: 'builtin',
      lockDurationMs: 1_000,
      stalledIntervalMs: 500,
      progressIntervalMs: 0,
    });
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await child.exited;
    });
    await child.ready;
    const job = renderJob({ userId: 'crash', request: { prompt: 'a cyan square moving down on a black background', frames: CHAIN_FRAMES } });
    await queue.enqueue(job);
    const chainDir = store.pathOf(`renders/${job.jobId}/chain`);
    const stored = () => (existsSync(chainDir) ? readdirSync(chainDir).filter((f) => f.startsWith('seg-')).length : 0);
    await waitFor(() => stored() >= 3, 60_000, 'three stored segments');
    child.kill('SIGKILL');
    await child.exited;
    const survived = stored();
    expect(survived).toBeLessThan(SEGMENTS);

    const before = model.calls.length;
    await startWorker('survivor', { lockDurationMs: 1_000, stalledIntervalMs: 500 }).start();
    const done = (await waitFor(() => of(job.jobId, 'completed')[0], 60_000, 'completion on the survivor')) as Extract<JobEvent, { type: 'completed' }>;
    // Only the segments the dead worker had not stored were rendered again.
    expect(model.calls.length - before).toBe(SEGMENTS - survived);
    expect(of(job.jobId, 'started').map((e) => (e as { workerId: string }).workerId)).toEqual(['doomed', 'survivor']);
    expect(done.takes[0]).toMatchObject({ frames: CHAIN_FRAMES, fps: 8 });
    expect((await decodeClip(await store.localPath(done.takes[0]!.video))).frames).toHaveLength(CHAIN_FRAMES);
  }, 120_000);

  it("starts another person's 2-s render within two segments of a running chain, on one worker", async () => {
    await startWorker('only').start();
    const chain = renderJob({ userId: 'A', channelKey: 'local:shared', request: { prompt: 'a red circle moving right on a blue background', frames: CHAIN_FRAMES } });
    await queue.enqueue(chain);
    await waitFor(() => of(chain.jobId).some((e) => segmentOf(e) === 2), 30_000, 'the chain in its second segment');
    // Same channel: B's first job lands behind A's first one in band order, until A's chain yields.
    const short = renderJob({ userId: 'B', channelKey: 'local:shared', request: { prompt: 'a green square still on a white background' } });
    const segmentAtSubmit = Math.max(...of(chain.jobId, 'progress').map(segmentOf));
    await queue.enqueue(short);

    const started = await waitFor(() => of(short.jobId, 'started')[0], 30_000, "B's start");
    // While B renders, the chain waits in line: still rendering to people, still outstanding.
    const whileWaiting = await queue.status(chain.jobId);
    expect(whileWaiting.state).toBe('active');
    expect(await queue.fair.outstanding('A')).toEqual([chain.jobId]);

    await waitFor(() => of(chain.jobId, 'completed').length && of(short.jobId, 'completed').length, 60_000, 'both done');
    const chainSegmentsBeforeB = events.slice(0, events.indexOf(started)).filter((e) => e.jobId === chain.jobId).map(segmentOf);
    // B starts within two segment durations: no later than the chain's segment after the one running at submit.
    expect(Math.max(...chainSegmentsBeforeB)).toBeLessThanOrEqual(segmentAtSubmit + 1);
    // The chain's hand-back shows as nothing: one start, no place in line, no failure, one end.
    const afterStart = of(chain.jobId).slice(of(chain.jobId).findIndex((e) => e.type === 'started'));
    expect(afterStart.filter((e) => e.type === 'started' || e.type === 'queued' || e.type === 'failed')).toHaveLength(1);
    const done = of(chain.jobId, 'completed')[0] as Extract<JobEvent, { type: 'completed' }>;
    expect(done.takes[0]).toMatchObject({ frames: CHAIN_FRAMES, fps: 8 });
    expect(await queue.fair.outstanding('A')).toEqual([]);
  }, 90_000);

  it('cancels a chain waiting between two segments: cancelled at once, on the record, never resumed', async () => {
    await startWorker('only').start();
    const chain = renderJob({ userId: 'C', channelKey: 'local:cancel', request: { prompt: 'a pink triangle moving left on a gray background', frames: CHAIN_FRAMES } });
    await queue.enqueue(chain);
    await waitFor(() => of(chain.jobId).some((e) => segmentOf(e) === 2), 30_000, 'the chain in its second segment');
    // Two takes: the other render keeps the worker long enough to cancel the chain while it waits.
    const other = renderJob({ userId: 'D', channelKey: 'local:cancel', request: { takes: 2 } });
    await queue.enqueue(other);
    await waitFor(() => of(other.jobId, 'started').length, 30_000, "the other render's start");
    expect(await queue.cancel(chain.jobId)).toBe(true);
    const cancelledAt = events.length;
    await waitFor(() => of(chain.jobId, 'cancelled').length, 5_000, "the chain's cancelled end");
    expect(of(other.jobId, 'completed')).toHaveLength(0);

    await waitFor(() => of(other.jobId, 'completed').length, 30_000, 'the other render');
    await sleep(500);
    // Never resumed, never shown as failed; the queue's record says cancelled (reconciliation reads it).
    expect(events.slice(cancelledAt).filter((e) => e.jobId === chain.jobId && e.type !== 'cancelled')).toEqual([]);
    expect(of(chain.jobId, 'failed')).toEqual([]);
    expect(await queue.outcome(chain.jobId)).toEqual({ state: 'ended', event: { type: 'cancelled', jobId: chain.jobId } });
    expect((await queue.status(chain.jobId)).state).toBe('cancelled');
    expect(await queue.fair.outstanding('C')).toEqual([]);
    expect(await queue.cancel(chain.jobId)).toBe(false);
  }, 90_000);
});
