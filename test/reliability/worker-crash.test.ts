import { describe, expect, it } from 'vitest';
import { LOCK_DURATION_MS, STALLED_INTERVAL_MS, acknowledged, figure, note, problems, send, summary, useCluster, videos, waitFor, waitForOutcomes, type QueueEvent, type Sent } from './harness.ts';

/**
 * Issue 11: a `dailies worker` SIGKILLed in the middle of a render. BullMQ's stall detection
 * (DAILIES_STALLED_INTERVAL_MS, DAILIES_LOCK_DURATION_MS) hands the job to the other worker; the
 * thread gets exactly one final per take.
 */

const startsOf = (events: QueueEvent[], jobId: string) => events.filter((e) => e.jobId === jobId && e.event === 'progress' && e.data?.kind === 'started');

describe('a worker dies (SIGKILL) mid-render', () => {
  it('finishes the render on the other worker and posts each take once', async () => {
    const cluster = await useCluster({ workers: 2 });
    const [command] = videos('long-render', 1, { prompt: 'a yellow circle moving down', takes: 2, steps: 16 }) as [Sent];
    await send(cluster, command);
    expect(acknowledged(command), JSON.stringify(command.answer ?? command.error)).toBe(true);
    const jobId = await waitFor('the job id', async () => (await cluster.thread(command.thread!)).session?.jobs[0]?.jobId, 30_000);

    const first = await waitFor('the render to start', async () => startsOf(await cluster.queueEvents(), jobId)[0], 90_000, 100, cluster.stopped);
    await waitFor(
      'step 3 of the render',
      async () => (await cluster.queueEvents()).some((e) => e.jobId === jobId && e.data?.kind === 'step' && e.data.step >= 3),
      90_000,
      100,
      cluster.stopped,
    );
    const victim = cluster.workers.find((w) => w.workerId === first.data.workerId);
    const survivor = cluster.workers.find((w) => w !== victim);
    expect(victim, `the worker that started the job (${first.data.workerId}) is one of ours: ${cluster.workers.map((w) => w.workerId).join(', ')}`).toBeDefined();
    expect((await cluster.queueEvents()).some((e) => e.jobId === jobId && e.event === 'completed'), 'the render was still running at the kill').toBe(false);

    await victim!.kill('SIGKILL');
    const killedAt = Date.now();
    const restarted = await waitFor(
      'the render to start on the other worker',
      async () => startsOf(await cluster.queueEvents(), jobId).find((e) => e.data.workerId !== victim!.workerId),
      120_000,
      100,
      cluster.stopped,
    );
    const events = await cluster.queueEvents();
    const stalled = events.find((e) => e.jobId === jobId && e.event === 'stalled' && e.at >= killedAt - 1_000);
    figure(
      `worker SIGKILL -> job started on the other worker: ${restarted.at - killedAt} ms` +
        ` (BullMQ 'stalled' after ${stalled ? `${stalled.at - killedAt} ms` : 'n/a'}; workers started with DAILIES_STALLED_INTERVAL_MS=${STALLED_INTERVAL_MS}, DAILIES_LOCK_DURATION_MS=${LOCK_DURATION_MS})`,
    );

    const results = await waitForOutcomes(cluster, [command], 180_000);
    note(`worker kill: ${summary(results)}`);
    expect(problems(results)).toEqual([]);
    const final = await cluster.queueEvents();
    expect(startsOf(final, jobId).map((e) => e.data.workerId)).toEqual([victim!.workerId, survivor!.workerId]);
    expect(final.filter((e) => e.jobId === jobId && e.event === 'completed')).toHaveLength(1);
  }, 360_000);
});
