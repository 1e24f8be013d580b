import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobEvent, JobQueue, RenderJob, TakeResult } from '../../src/core/ports/job-queue.ts';
import { DailiesError } from '../../src/errors.ts';
import { refusal } from './refusal.ts';

/**
 * The contract of the job seam, for every JobQueue: BullmqJobQueue on real Redis, and the
 * FakeJobQueue the core tests rely on (so what the core is tested against is what it runs on).
 *
 * A fixture plays the worker pool's side: `take` is a worker slot taking the first job in line
 * (BullMQ: a real BullMQ Worker fetching it; the fake: its `emit`), and the returned handle
 * reports progress and ends the job the way workers/render-processor.ts does.
 *
 * Decisions this suite pins down:
 * - A job id is one job: enqueueing it again while it waits or runs answers its status and adds
 *   nothing; a finished job is not run again.
 * - More than `perPersonCap` waiting + running jobs of one person are refused with
 *   DailiesError('rate_limited') and the sentence people see; others are not affected; a place
 *   frees when one of theirs is cancelled or ends.
 * - Positions are 1-based places among waiting jobs in the fair-share order (round robin over
 *   people), live: they move up when a job ahead starts or leaves.
 * - cancel: a waiting job is removed at once (true; state and outcome 'cancelled'; subscribers
 *   get 'cancelled'); a running job's worker is asked to stop (true; it stays active until its
 *   worker stops); an unknown or finished job answers false.
 * - status states: waiting -> active -> completed | failed | cancelled; 'unknown' for ids the
 *   queue never had.
 * - outcome: 'pending' while waiting or running, 'ended' with the end event once ended,
 *   'unknown' for ids the queue never had.
 * - Events: subscribers get 'queued' (arrival, and each later change of place), 'started',
 *   'progress', and one end ('completed' with the takes, 'failed' with code and message,
 *   'cancelled'); an unsubscribed listener gets nothing more.
 */
export interface PlayedJob {
  readonly jobId: string;
  progress(step: number, totalSteps: number): Promise<void>;
  complete(result: { takes: TakeResult[]; timingsMs: Record<string, number> }): Promise<void>;
  /** Fails for good (no retry), as a worker does for a non-retryable DailiesError. */
  fail(error: { code: string; message: string }): Promise<void>;
  /** Fails a transient way (a retryable DailiesError): the job goes back in line for another attempt. */
  failForRetry(error: { code: string; message: string }): Promise<void>;
  /** Whether the queue has asked this job's worker to stop. */
  cancelRequested(): Promise<boolean>;
  /** The worker honours the request: the render stops and the job ends as cancelled. */
  stopCancelled(): Promise<void>;
}

export interface JobQueueFixture {
  /** A fresh queue holding no jobs. */
  queue: JobQueue;
  /** The per-person cap it was built with. */
  perPersonCap: number;
  /** A worker slot takes the first job in line and reports 'started' with `workerId` and its attempt (1-based). */
  take(workerId: string): Promise<PlayedJob>;
  /** Resolves once events published from now on reach `onEvent` listeners. */
  eventsReady(): Promise<void>;
  cleanup(): Promise<void>;
}

let counter = 0;

export function conformanceJob(userId: string, overrides: Partial<Omit<RenderJob, 'request'>> = {}): RenderJob {
  counter++;
  return {
    v: 1,
    jobId: `cj-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`,
    sessionId: `s-${counter}`,
    version: 1,
    userId,
    channelKey: 'local:general',
    thread: { platform: 'local', channelId: 'general', threadId: `t-${counter}` },
    request: { prompt: 'a red ball bouncing', negativePrompt: '', seed: 7, takes: 1, quality: 'draft' },
    ...overrides,
  };
}

/** Polls until `check` stops throwing (queues deliver events and state changes asynchronously). */
async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() - started > timeoutMs) throw error;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const TAKES: TakeResult[] = [
  { index: 0, seed: 7, video: { key: 'renders/x/take-0.mp4', bytes: 10, contentType: 'video/mp4' }, preview: { key: 'renders/x/take-0.png', bytes: 5, contentType: 'image/png' } },
];

export function runJobQueueConformance(name: string, factory: () => Promise<JobQueueFixture>): void {
  describe(`JobQueue conformance: ${name}`, () => {
    let f: JobQueueFixture;
    let queue: JobQueue;
    let events: JobEvent[];
    let unsubscribe: () => void;

    beforeEach(async () => {
      f = await factory();
      queue = f.queue;
      events = [];
      unsubscribe = queue.onEvent((e) => events.push(e));
      await f.eventsReady();
    });
    afterEach(async () => {
      unsubscribe();
      await queue.close();
      await f.cleanup();
    });

    const of = (jobId: string) => events.filter((e) => e.jobId === jobId);
    const lastPlace = (jobId: string) => of(jobId).filter((e) => e.type === 'queued').at(-1);
    const positions = async (jobs: RenderJob[]) => Promise.all(jobs.map(async (j) => (await queue.status(j.jobId)).position));

    it('answers a new job with its waiting place, 1-based', async () => {
      const a = conformanceJob('ann');
      const status = await queue.enqueue(a);
      expect(status).toMatchObject({ state: 'waiting', position: 1 });
      expect(status.etaMs === null || typeof status.etaMs === 'number').toBe(true);
      expect(await queue.status(a.jobId)).toMatchObject({ state: 'waiting', position: 1 });
      expect(await queue.outcome(a.jobId)).toEqual({ state: 'pending' });
    });

    it('makes one job of a job id enqueued twice', async () => {
      const a = conformanceJob('ann');
      const b = conformanceJob('ben');
      const first = await queue.enqueue(a);
      const second = await queue.enqueue(a);
      expect(second).toEqual(first);
      await queue.enqueue(b);
      expect(await positions([a, b])).toEqual([1, 2]);

      const held = await f.take('w1');
      expect(held.jobId).toBe(a.jobId);
      await eventually(async () => expect((await queue.status(a.jobId)).state).toBe('active'));
      expect((await queue.enqueue(a)).state).toBe('active');
      expect(await positions([b])).toEqual([1]);

      await held.complete({ takes: TAKES, timingsMs: { total: 5 } });
      await eventually(async () => expect((await queue.status(a.jobId)).state).toBe('completed'));
      // A finished job is not run again.
      expect((await queue.enqueue(a)).state).toBe('completed');
      expect(await positions([b])).toEqual([1]);
    });

    it("refuses a person over the cap with 'rate_limited' and the sentence people see", async () => {
      const cap = f.perPersonCap;
      const mine = Array.from({ length: cap }, () => conformanceJob('capped'));
      for (const job of mine) expect((await queue.enqueue(job)).state).toBe('waiting');
      const over = conformanceJob('capped');
      const error = await refusal(queue.enqueue(over));
      expect(error.code).toBe('rate_limited');
      expect(error.message).toBe(`You already have ${cap} renders waiting or running; wait for one to finish or /cancel one.`);
      expect((await queue.status(over.jobId)).state).toBe('unknown');

      // Someone else is not affected.
      expect((await queue.enqueue(conformanceJob('someone-else'))).state).toBe('waiting');
      // A cancelled job frees its place.
      expect(await queue.cancel(mine[0]!.jobId)).toBe(true);
      expect((await queue.enqueue(over)).state).toBe('waiting');
    });

    it('counts running jobs against the cap until they end', async () => {
      const cap = f.perPersonCap;
      const mine = Array.from({ length: cap }, () => conformanceJob('busy'));
      for (const job of mine) await queue.enqueue(job);
      const held = await f.take('w1');
      expect(held.jobId).toBe(mine[0]!.jobId);
      await eventually(async () => expect((await queue.status(held.jobId)).state).toBe('active'));
      const next = conformanceJob('busy');
      expect((await refusal(queue.enqueue(next))).code).toBe('rate_limited');
      await held.complete({ takes: TAKES, timingsMs: {} });
      await eventually(async () => expect((await queue.status(held.jobId)).state).toBe('completed'));
      expect((await queue.enqueue(next)).state).toBe('waiting');
    });

    it('places waiting jobs in the fair-share order: one turn per person', async () => {
      const users = ['p', 'p', 'p', 'q', 'r', 'q'];
      const jobs = users.map((u) => conformanceJob(u));
      for (const job of jobs) await queue.enqueue(job);
      const places = await positions(jobs);
      const byPlace = jobs.map((j, i) => [places[i]!, j.userId] as const).sort((x, y) => x[0] - y[0]);
      expect(byPlace.map(([place]) => place)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(byPlace.map(([, user]) => user)).toEqual(['p', 'q', 'r', 'p', 'q', 'p']);
      // The worker takes them in that order.
      const first = await f.take('w1');
      expect(first.jobId).toBe(jobs[0]!.jobId);
      await eventually(async () => expect((await queue.status(first.jobId)).state).toBe('active'));
      const second = await f.take('w2');
      expect(second.jobId).toBe(jobs[3]!.jobId);
    });

    it('moves places up when a job ahead starts or leaves', async () => {
      const [a, b, c] = [conformanceJob('a1'), conformanceJob('b1'), conformanceJob('c1')];
      for (const job of [a, b, c]) await queue.enqueue(job);
      expect(await positions([a, b, c])).toEqual([1, 2, 3]);
      const held = await f.take('w1');
      expect(held.jobId).toBe(a.jobId);
      await eventually(async () => expect(await positions([a, b, c])).toEqual([null, 1, 2]));
      expect(await queue.cancel(b.jobId)).toBe(true);
      expect(await positions([c])).toEqual([1]);
    });

    it('cancels a waiting job: removed, reported, its place given up', async () => {
      const [a, b] = [conformanceJob('ann'), conformanceJob('ben')];
      await queue.enqueue(a);
      await queue.enqueue(b);
      expect(await queue.cancel(a.jobId)).toBe(true);
      expect(await queue.status(a.jobId)).toEqual({ state: 'cancelled', position: null, etaMs: null });
      expect(await queue.outcome(a.jobId)).toEqual({ state: 'ended', event: { type: 'cancelled', jobId: a.jobId } });
      await eventually(() => expect(of(a.jobId).filter((e) => e.type === 'cancelled')).toEqual([{ type: 'cancelled', jobId: a.jobId }]));
      expect(await positions([b])).toEqual([1]);
      // The worker never gets it.
      const held = await f.take('w1');
      expect(held.jobId).toBe(b.jobId);
      // Once is enough.
      expect(await queue.cancel(a.jobId)).toBe(false);
    });

    it('asks the worker of a running job to stop; the job ends when the worker stops', async () => {
      const a = conformanceJob('ann');
      await queue.enqueue(a);
      const held = await f.take('w1');
      await eventually(async () => expect((await queue.status(a.jobId)).state).toBe('active'));
      expect(await held.cancelRequested()).toBe(false);
      expect(await queue.cancel(a.jobId)).toBe(true);
      expect(await held.cancelRequested()).toBe(true);
      // Until the worker reaches its next step, the job still runs.
      expect((await queue.status(a.jobId)).state).toBe('active');
      expect(await queue.outcome(a.jobId)).toEqual({ state: 'pending' });

      await held.stopCancelled();
      await eventually(() => expect(of(a.jobId).at(-1)).toEqual({ type: 'cancelled', jobId: a.jobId }));
      expect((await queue.status(a.jobId)).state).toBe('cancelled');
      expect(await queue.outcome(a.jobId)).toEqual({ state: 'ended', event: { type: 'cancelled', jobId: a.jobId } });
      expect(await queue.cancel(a.jobId)).toBe(false);
    });

    it('knows nothing of a job it never had', async () => {
      expect(await queue.status('never-enqueued')).toEqual({ state: 'unknown', position: null, etaMs: null });
      expect(await queue.outcome('never-enqueued')).toEqual({ state: 'unknown' });
      expect(await queue.cancel('never-enqueued')).toBe(false);
    });

    it('runs a job: queued, started, progress, completed, as a subscriber sees them', async () => {
      const a = conformanceJob('ann');
      await queue.enqueue(a);
      await eventually(() => expect(lastPlace(a.jobId)).toMatchObject({ type: 'queued', position: 1 }));
      const held = await f.take('worker-7');
      await eventually(async () => expect((await queue.status(a.jobId)).state).toBe('active'));
      expect(await queue.outcome(a.jobId)).toEqual({ state: 'pending' });
      await held.progress(1, 2);
      await held.progress(2, 2);
      await held.complete({ takes: TAKES, timingsMs: { total: 12 } });

      await eventually(() => expect(of(a.jobId).at(-1)?.type).toBe('completed'));
      const seen = of(a.jobId);
      expect(seen.filter((e) => e.type !== 'queued')).toEqual([
        { type: 'started', jobId: a.jobId, workerId: 'worker-7', attempt: 1 },
        { type: 'progress', jobId: a.jobId, step: 1, totalSteps: 2 },
        { type: 'progress', jobId: a.jobId, step: 2, totalSteps: 2 },
        { type: 'completed', jobId: a.jobId, takes: TAKES, timingsMs: { total: 12 } },
      ]);
      // Places are announced only while it waits.
      expect(seen.findLastIndex((e) => e.type === 'queued')).toBeLessThan(seen.findIndex((e) => e.type === 'started'));
      expect(await queue.status(a.jobId)).toEqual({ state: 'completed', position: null, etaMs: null });
      expect(await queue.outcome(a.jobId)).toEqual({ state: 'ended', event: { type: 'completed', jobId: a.jobId, takes: TAKES, timingsMs: { total: 12 } } });
      expect(await queue.cancel(a.jobId)).toBe(false);
    });

    it('fails a job for good: the failed event carries its code and sentence', async () => {
      const a = conformanceJob('ann');
      await queue.enqueue(a);
      const held = await f.take('w1');
      const error = { code: 'bad_input', message: 'The image could not be read; attach a PNG or JPEG.' };
      await held.fail(error);
      const failed = { type: 'failed', jobId: a.jobId, error, willRetry: false };
      await eventually(() => expect(of(a.jobId).at(-1)).toEqual(failed));
      expect(await queue.status(a.jobId)).toEqual({ state: 'failed', position: null, etaMs: null });
      expect(await queue.outcome(a.jobId)).toEqual({ state: 'ended', event: failed });
      expect(await queue.cancel(a.jobId)).toBe(false);
    });

    it('sends a job that failed a transient way back in line, then runs it again', async () => {
      const a = conformanceJob('ann');
      await queue.enqueue(a);
      const first = await f.take('w1');
      const error = { code: 'unavailable', message: 'The render engine stopped unexpectedly; the render will be tried again.' };
      await first.failForRetry(error);
      // (Back in line, it may be announced with a place again.)
      await eventually(() => expect(of(a.jobId).filter((e) => e.type === 'failed')).toEqual([{ type: 'failed', jobId: a.jobId, error, willRetry: true }]));
      expect(await queue.outcome(a.jobId)).toEqual({ state: 'pending' });
      await eventually(async () => expect((await queue.status(a.jobId)).state).toBe('waiting'));

      const second = await f.take('w2');
      expect(second.jobId).toBe(a.jobId);
      await second.complete({ takes: TAKES, timingsMs: {} });
      await eventually(() => expect(of(a.jobId).at(-1)?.type).toBe('completed'));
      expect(of(a.jobId).filter((e) => e.type === 'started')).toEqual([
        { type: 'started', jobId: a.jobId, workerId: 'w1', attempt: 1 },
        { type: 'started', jobId: a.jobId, workerId: 'w2', attempt: 2 },
      ]);
      expect(of(a.jobId).filter((e) => e.type === 'failed')).toHaveLength(1);
      // The failed attempt does not colour the record of a job that then completed.
      expect((await queue.status(a.jobId)).state).toBe('completed');
      expect(await queue.outcome(a.jobId)).toMatchObject({ state: 'ended', event: { type: 'completed' } });
    });

    it('announces a changed place to a subscriber when the job ahead starts or leaves', async () => {
      const [a, b, c] = [conformanceJob('a1'), conformanceJob('b1'), conformanceJob('c1')];
      for (const job of [a, b, c]) await queue.enqueue(job);
      await eventually(() => expect([a, b, c].map((j) => lastPlace(j.jobId)?.position)).toEqual([1, 2, 3]));
      await f.take('w1');
      await eventually(() => expect([b, c].map((j) => lastPlace(j.jobId)?.position)).toEqual([1, 2]));
      await queue.cancel(b.jobId);
      await eventually(() => expect(lastPlace(c.jobId)?.position).toBe(1));
    });

    it('stops delivering to a listener that unsubscribed', async () => {
      const early: JobEvent[] = [];
      const stop = queue.onEvent((e) => early.push(e));
      const a = conformanceJob('ann');
      await queue.enqueue(a);
      await eventually(() => expect(early.some((e) => e.jobId === a.jobId)).toBe(true));
      stop();
      const count = early.length;
      const held = await f.take('w1');
      await held.complete({ takes: TAKES, timingsMs: {} });
      // The listener still subscribed saw the end; the one that left saw nothing more.
      await eventually(() => expect(of(a.jobId).at(-1)?.type).toBe('completed'));
      expect(early).toHaveLength(count);
    });
  });
}
