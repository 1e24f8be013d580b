import { DailiesError } from '../../../src/errors.ts';
import type { EndEvent, JobEvent, JobOutcome, JobQueue, JobStatus, RenderJob } from '../../../src/core/ports/job-queue.ts';

/** An in-memory JobQueue: records what was enqueued and lets the test play the worker's events. */
export class FakeJobQueue implements JobQueue {
  readonly jobs: RenderJob[] = [];
  readonly cancelled: string[] = [];
  private listeners = new Set<(event: JobEvent) => void>();
  private states = new Map<string, JobStatus>();
  private ends = new Map<string, EndEvent>();
  refuse: DailiesError | null = null;
  /** Jobs that stopped waiting, so positions count only the waiting ones without a scan. */
  private left = 0;

  async enqueue(job: RenderJob): Promise<JobStatus> {
    if (this.refuse) throw this.refuse;
    this.jobs.push(structuredClone(job));
    const position = this.jobs.length - this.left;
    const status: JobStatus = { state: 'waiting', position, etaMs: position * 30_000 };
    this.states.set(job.jobId, status);
    return status;
  }

  async cancel(jobId: string): Promise<boolean> {
    const s = this.states.get(jobId);
    if (!s || s.state === 'completed' || s.state === 'failed' || s.state === 'cancelled') return false;
    this.cancelled.push(jobId);
    if (s.state === 'waiting') {
      this.left++;
      this.states.set(jobId, { state: 'cancelled', position: null, etaMs: null });
      this.ends.set(jobId, { type: 'cancelled', jobId });
    }
    return true;
  }

  async status(jobId: string): Promise<JobStatus> {
    return this.states.get(jobId) ?? { state: 'unknown', position: null, etaMs: null };
  }

  async outcome(jobId: string): Promise<JobOutcome> {
    const end = this.ends.get(jobId);
    if (end) return { state: 'ended', event: structuredClone(end) };
    return this.states.has(jobId) ? { state: 'pending' } : { state: 'unknown' };
  }

  /** The job ends while no bot listens (its event is never delivered): only `outcome` knows. */
  endUnheard(event: EndEvent): void {
    this.record(event);
  }

  onEvent(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: JobEvent): void {
    this.record(event);
    for (const l of this.listeners) l(event);
  }

  private record(event: JobEvent): void {
    if (this.states.get(event.jobId)?.state === 'waiting' && event.type !== 'queued' && event.type !== 'progress') this.left++;
    if (event.type === 'started') this.states.set(event.jobId, { state: 'active', position: null, etaMs: null });
    if (event.type === 'completed') this.states.set(event.jobId, { state: 'completed', position: null, etaMs: null });
    if (event.type === 'cancelled') this.states.set(event.jobId, { state: 'cancelled', position: null, etaMs: null });
    if (event.type === 'failed' && !event.willRetry) this.states.set(event.jobId, { state: 'failed', position: null, etaMs: null });
    if (event.type === 'completed' || event.type === 'cancelled' || (event.type === 'failed' && !event.willRetry)) this.ends.set(event.jobId, structuredClone(event));
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
