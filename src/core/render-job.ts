import type { RenderJob } from './ports/job-queue.ts';
import type { JobRecord, Session } from './session.ts';

/** The queue's payload for a recorded job; null for a job stored without its request (older data). */
export function renderJobOf(session: Session, job: JobRecord): RenderJob | null {
  if (!job.request) return null;
  return {
    v: 1,
    jobId: job.jobId,
    sessionId: session.id,
    version: job.version,
    userId: job.requestedBy.id,
    channelKey: session.channelKey,
    thread: session.thread,
    request: job.request,
    ...(job.model ? { model: job.model } : {}),
  };
}
