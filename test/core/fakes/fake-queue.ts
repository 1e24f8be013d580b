import { DailiesError } from '../../../src/errors.ts';
import type { EndEvent, JobEvent, JobOutcome, JobQueue, JobState, JobStatus, RenderJob } from '../../../src/core/ports/job-queue.ts';
import { computeBands, dispatchOrder, type FairJob } from '../../../src/queue/fair-share.ts';

interface Entry {
  /** Absent for a job the test only emitted events for. */
  job?: RenderJob;
  seq: number;
  state: Exclude<JobState, 'unknown'>;
}

export interface FakeJobQueueOptions {
  /** Waiting + running renders one person may have, as BullmqJobQueue's (default 3). */
  perPersonCap?: number;
}

/**
 * An in-memory JobQueue: records what was enqueued and lets the test play the worker's events.
 * It keeps BullmqJobQueue's contract (test/conformance/job-queue.conformance.ts runs on both):
 * one job per id, the per-person cap, places in the fair-share order, 'queued' events for
 * arrivals and moved places, 'cancelled' for a cancelled waiting job.
 */
export class FakeJobQueue implements JobQueue {
  readonly jobs: RenderJob[] = [];
  readonly cancelled: string[] = [];
  /** When set, every enqueue throws it (a queue that is down, or refuses for another reason). */
  refuse: DailiesError | null = null;
  readonly perPersonCap: number;
  private listeners = new Set<(event: JobEvent) => void>();
  /** Named `states` because reconciliation tests delete from it to play a queue that lost its data. */
  private states = new Map<string, Entry>();
  private ends = new Map<string, EndEvent>();
  private seq = 0;
  /** The places last announced with 'queued', so only changes are announced. */
  private announced = new Map<string, number>();

  constructor(options: FakeJobQueueOptions = {}) {
    this.perPersonCap = options.perPersonCap ?? 3;
  }

  async enqueue(job: RenderJob): Promise<JobStatus> {
    if (this.refuse) throw this.refuse;
    const known = this.states.get(job.jobId);
    // One job per id: enqueueing it again answers with its status. Only a cancelled job starts
    // afresh (BullMQ removed it), as BullmqJobQueue does.
    if (known && known.state !== 'cancelled') return this.status(job.jobId);
    const outstanding = [...this.states.values()].filter((e) => e.job?.userId === job.userId && (e.state === 'waiting' || e.state === 'active'));
    if (outstanding.length >= this.perPersonCap) {
      throw new DailiesError('rate_limited', `You already have ${this.perPersonCap} renders waiting or running; wait for one to finish or /cancel one.`);
    }
    this.jobs.push(structuredClone(job));
    this.states.set(job.jobId, { job: structuredClone(job), seq: ++this.seq, state: 'waiting' });
    this.ends.delete(job.jobId);
    const status = await this.status(job.jobId);
    this.announcePlaces();
    return status;
  }

  async cancel(jobId: string): Promise<boolean> {
    const entry = this.states.get(jobId);
    if (!entry || (entry.state !== 'waiting' && entry.state !== 'active')) return false;
    this.cancelled.push(jobId);
    // A running job only gets the request: its worker stops and reports 'cancelled' (play it with emit).
    if (entry.state === 'waiting') this.emit({ type: 'cancelled', jobId });
    return true;
  }

  /** Whether `cancel` asked the worker running this job to stop. */
  cancelRequested(jobId: string): boolean {
    return this.cancelled.includes(jobId);
  }

  async status(jobId: string): Promise<JobStatus> {
    const entry = this.states.get(jobId);
    if (!entry) return { state: 'unknown', position: null, etaMs: null };
    if (entry.state !== 'waiting') return { state: entry.state, position: null, etaMs: null };
    const position = this.waitingOrder().indexOf(jobId) + 1;
    return { state: 'waiting', position, etaMs: position * 30_000 };
  }

  async outcome(jobId: string): Promise<JobOutcome> {
    const end = this.ends.get(jobId);
    if (end) return { state: 'ended', event: structuredClone(end) };
    return this.states.has(jobId) ? { state: 'pending' } : { state: 'unknown' };
  }

  /** Waiting job ids in the order a worker takes them (fair share, as BullMQ's bands order them). */
  waitingOrder(): string[] {
    const outstanding: FairJob[] = [];
    const waiting: FairJob[] = [];
    for (const [jobId, e] of this.states) {
      if (!e.job || (e.state !== 'waiting' && e.state !== 'active')) continue;
      const fair = { jobId, userId: e.job.userId, channelKey: e.job.channelKey, seq: e.seq };
      outstanding.push(fair);
      if (e.state === 'waiting') waiting.push(fair);
    }
    return dispatchOrder(waiting, computeBands(outstanding)).map((j) => j.jobId);
  }

  /** The job ends while no bot listens (its event is never delivered): only `outcome` knows. */
  endUnheard(event: EndEvent): void {
    this.record(event);
  }

  onEvent(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Plays a worker's event (or a queue event); changed places of waiting jobs are announced after it. */
  emit(event: JobEvent): void {
    const before = this.states.get(event.jobId)?.state;
    this.record(event);
    for (const l of this.listeners) l(event);
    // A job leaving the line moves the ones behind it; one that ends can reorder them (fair-share bands).
    if (this.states.get(event.jobId)?.state !== before) this.announcePlaces();
  }

  private record(event: JobEvent): void {
    let entry = this.states.get(event.jobId);
    if (!entry) {
      if (event.type === 'queued') return;
      entry = { seq: ++this.seq, state: 'waiting' };
      this.states.set(event.jobId, entry);
    }
    if (event.type === 'started' || event.type === 'progress' || event.type === 'preview') {
      if (entry.state === 'waiting') entry.state = 'active';
    }
    // A failure that will be retried sends the job back in line, as BullMQ's backoff does.
    if (event.type === 'failed' && event.willRetry && entry.state === 'active') entry.state = 'waiting';
    if (event.type === 'completed') entry.state = 'completed';
    if (event.type === 'cancelled') entry.state = 'cancelled';
    if (event.type === 'failed' && !event.willRetry) entry.state = 'failed';
    if (event.type === 'completed' || event.type === 'cancelled' || (event.type === 'failed' && !event.willRetry)) this.ends.set(event.jobId, structuredClone(event));
  }

  /** 'queued' for every waiting job whose place is new or changed, as BullmqJobQueue announces them. */
  private announcePlaces(): void {
    const next = new Map<string, number>();
    this.waitingOrder().forEach((jobId, i) => next.set(jobId, i + 1));
    const changed = [...next].filter(([jobId, position]) => this.announced.get(jobId) !== position);
    this.announced = next;
    for (const [jobId, position] of changed) {
      const event: JobEvent = { type: 'queued', jobId, position, etaMs: position * 30_000 };
      for (const l of this.listeners) l(event);
    }
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
