import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullmqJobQueue } from '../../src/queue/bullmq-job-queue.ts';
import type { FairMode } from '../../src/queue/fair-share.ts';
import type { JobEvent } from '../../src/core/ports/job-queue.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { RenderWorker } from '../../workers/worker.ts';
import { createGradientTestModel } from '../workers/fixtures/gradient-test-model.ts';
import { rawTestMedia } from '../workers/fixtures/raw-test-media.ts';
import { renderJob, testQueue, waitFor } from '../workers/fixtures/redis-test-env.ts';

/** A floods 20 jobs, then B sends 1; two workers. Returns B's start index among all 21 starts. */
async function floodScenario(env: ReturnType<typeof testQueue>, dir: string, mode: FairMode, queueName: string): Promise<{ bIndex: number; order: string[] }> {
  const queue = new BullmqJobQueue({ redis: env.redis, queueName, prefix: env.prefix, perPersonCap: 25, mode, positionUpdates: false });
  const started: string[] = [];
  const completed = new Set<string>();
  queue.onEvent((e: JobEvent) => {
    if (e.type === 'started') started.push(e.jobId);
    if (e.type === 'completed') completed.add(e.jobId);
  });
  await queue.eventsReady();
  const workers = [1, 2].map(
    (n) =>
      new RenderWorker({
        redis: env.redis,
        queueName,
        prefix: env.prefix,
        workerId: `w${n}`,
        createModel: () => createGradientTestModel({ steps: 4, stepDelayMs: 50, previewSteps: [] }),
        media: rawTestMedia(),
        store: new FsArtifactStore({ root: dir }),
        log: () => {},
      }),
  );
  try {
    await Promise.all(workers.map((w) => w.start()));
    const a = Array.from({ length: 20 }, () => renderJob({ userId: 'A', channelKey: 'local:busy' }));
    // Together, so the flood is in line before the first renders finish.
    await Promise.all(a.map((job) => queue.enqueue(job)));
    const b = renderJob({ userId: 'B', channelKey: 'local:busy' });
    await queue.enqueue(b);
    await waitFor(() => completed.size === 21, 60_000, 'all 21 renders');
    return { bIndex: started.indexOf(b.jobId), order: started.map((id) => (id === b.jobId ? 'B' : 'A')) };
  } finally {
    await Promise.all(workers.map((w) => w.close(1000)));
    await queue.close();
  }
}

describe('fair share with real workers on real Redis', () => {
  const env = testQueue();
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-fair-'));
  });
  afterAll(async () => {
    await env.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("starts B's one job within about one job duration of A's flood of 20", async () => {
    const { bIndex, order } = await floodScenario(env, dir, 'fair', `${env.queueName}-fair`);
    // Started A jobs before B: at most the two already running plus the two that took the freed slots.
    expect(bIndex, order.join('')).toBeLessThanOrEqual(4);
    expect(20 - bIndex + 1).toBeGreaterThanOrEqual(15);
  });

  it('(control) plain FIFO makes B wait for the whole flood', async () => {
    const { bIndex } = await floodScenario(env, dir, 'fifo', `${env.queueName}-fifo`);
    expect(bIndex).toBe(20);
  });
});
