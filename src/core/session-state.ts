import { DailiesError } from '../errors.ts';
import type { ThreadRef } from './ports/chat-adapter.ts';
import type {
  BasePick,
  JobRecord,
  JobStateName,
  Person,
  PreviewPost,
  PromptVersion,
  RenderSettings,
  Session,
  VersionDraft,
} from './session.ts';

/**
 * Pure session transitions. Stores apply these inside their atomic write, so the rules live in
 * one place and the memory and Redis stores cannot drift apart. Nothing here mutates its input.
 */

/**
 * The job lifecycle. `queued` again after `rendering`/`previewed` is a retry (the queue's
 * 'failed' event with willRetry); the same state twice is a no-op so duplicated queue events are
 * harmless. Terminal states accept nothing else: a 'completed' after a cancel is a conflict.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStateName, readonly JobStateName[]>> = {
  queued: ['rendering', 'failed', 'cancelled'],
  rendering: ['previewed', 'done', 'failed', 'cancelled', 'queued'],
  previewed: ['done', 'failed', 'cancelled', 'queued'],
  done: [],
  failed: [],
  cancelled: [],
};

export const TERMINAL_JOB_STATES: readonly JobStateName[] = ['done', 'failed', 'cancelled'];

export function isTerminal(state: JobStateName): boolean {
  return TERMINAL_JOB_STATES.includes(state);
}

export type JobPatch = Partial<Pick<JobRecord, 'attempt' | 'artifacts' | 'withheld' | 'error' | 'cancelledBy'>>;

/** Applies one lifecycle step; throws DailiesError('conflict') for a step the table forbids. */
export function transitionJob(
  job: JobRecord,
  to: JobStateName,
  now: number,
  patch: JobPatch = {},
): { job: JobRecord; changed: boolean } {
  // A take a moderator removed stays removed, whatever a repeated 'completed' carries.
  if (patch.artifacts && job.removed?.length) patch = { ...patch, artifacts: patch.artifacts.filter((t) => !job.removed!.some((r) => r.index === t.index)) };
  if (job.state === to) {
    const merged = { ...job, ...patch };
    const changed = JSON.stringify(merged) !== JSON.stringify(job);
    return { job: changed ? { ...merged, updatedAt: now } : job, changed };
  }
  if (!JOB_TRANSITIONS[job.state].includes(to)) {
    throw new DailiesError(
      'conflict',
      `Job ${job.jobId} is ${job.state} and cannot become ${to}; start a new render instead.`,
    );
  }
  return { job: { ...job, ...patch, state: to, updatedAt: now }, changed: true };
}

/** A job whose end delivery has shown in full; a no-op when already marked or not yet terminal. */
export function markDelivered(session: Session, jobId: string, now: number): Session {
  const job = requireJob(session, jobId);
  if (job.deliveredAt || !isTerminal(job.state)) return session;
  return replaceJob(session, { ...job, deliveredAt: now });
}

/** True while the job's end has not been shown in its thread (the undelivered index's rule). */
export function isUndelivered(job: JobRecord): boolean {
  return !job.deliveredAt;
}

/**
 * The legal path from a job's state to `to`, for events that skip a step (a 'completed'
 * arriving while the store still says queued because 'started' was lost). Empty when `to` is
 * the current state; throws when no path exists.
 */
export function pathTo(from: JobStateName, to: JobStateName): JobStateName[] {
  if (from === to) return [];
  if (JOB_TRANSITIONS[from].includes(to)) return [to];
  if (from === 'queued' && JOB_TRANSITIONS.rendering.includes(to)) return ['rendering', to];
  throw new DailiesError('conflict', `Job cannot go from ${from} to ${to}; start a new render instead.`);
}

export interface NewSessionInput {
  id: string;
  thread: ThreadRef;
  owner: Person;
  first: Omit<VersionDraft, 'parent'>;
  settings: RenderSettings;
  /** The first render, created in the same write so a new session costs one round trip. */
  job?: NewJob;
  /**
   * A storyboard: `first` is shot 1 and `job` its render; these are shots 2..n, each with its
   * first render, all in the same write (a half-created storyboard would be a film missing shots).
   */
  storyboard?: { style: string; shots: Array<{ version: Omit<VersionDraft, 'parent'>; job: NewJob }> };
}

export function channelKeyOf(thread: ThreadRef): string {
  return `${thread.platform}:${thread.channelId}`;
}

export function threadKeyOf(thread: ThreadRef): string {
  return `${thread.platform}:${thread.channelId}:${thread.threadId}`;
}

export function createSession(input: NewSessionInput, now: number): Session {
  const session: Session = {
    id: input.id,
    thread: { ...input.thread },
    channelKey: channelKeyOf(input.thread),
    owner: { ...input.owner },
    createdAt: now,
    versions: [versionOf(input.first, null, 1, now)],
    current: 1,
    settings: { ...input.settings },
    jobs: [],
    rounds: [],
    base: null,
    rev: 1,
  };
  let created = input.job ? addJob(session, input.job, now).session : session;
  if (input.storyboard) {
    created = { ...created, versions: [{ ...created.versions[0]!, shot: 1 }] };
    for (const [i, shot] of input.storyboard.shots.entries()) {
      const version = { ...versionOf(shot.version, null, i + 2, now), shot: i + 2 };
      created = addJob({ ...created, versions: [...created.versions, version] }, shot.job, now).session;
    }
    created = { ...created, storyboard: { style: input.storyboard.style, shots: created.versions.map((v) => v.n) } };
  }
  return created;
}

export function findVersion(session: Session, n: number): PromptVersion | undefined {
  return session.versions.find((v) => v.n === n);
}

export function currentVersion(session: Session): PromptVersion {
  const v = findVersion(session, session.current);
  if (!v) throw new DailiesError('internal', `Session ${session.id} has no current version; report this to the server admin.`);
  return v;
}

export function requireVersion(session: Session, n: number): PromptVersion {
  const v = findVersion(session, n);
  if (!v) {
    throw new DailiesError('not_found', `There is no v${n} in this session; pick one of v1–v${session.versions.length}.`);
  }
  return v;
}

/** A stored version, field by field (see addJob for why not a spread). */
function versionOf(draft: Omit<VersionDraft, 'parent'>, parent: number | null, n: number, now: number): PromptVersion {
  const version: PromptVersion = { n, prompt: draft.prompt, negativePrompt: draft.negativePrompt, seed: draft.seed, parent, author: draft.author, createdAt: now, change: draft.change };
  if (draft.shot !== undefined) version.shot = draft.shot;
  return version;
}

/** Appends a version as the newest and makes it current; the base pick is consumed by it. */
export function appendVersion(session: Session, draft: VersionDraft, now: number): { session: Session; version: PromptVersion } {
  if (draft.parent !== null) requireVersion(session, draft.parent);
  const version = versionOf(draft, draft.parent, session.versions.length + 1, now);
  let next: Session = { ...session, versions: [...session.versions, version], current: version.n, base: null };
  if (next.storyboard && version.shot !== undefined) next = setShot(next, version.shot, version.n);
  return { session: next, version };
}

/** Points shot `shot` (1-based) at version `n`; shot n+1 adds a shot at the end. */
function setShot(session: Session, shot: number, n: number): Session {
  const board = session.storyboard!;
  if (shot < 1 || shot > board.shots.length + 1) {
    throw new DailiesError('bad_input', `This storyboard has shots 1 to ${board.shots.length}; revise one of them or add shot ${board.shots.length + 1}.`);
  }
  const shots = [...board.shots];
  shots[shot - 1] = n;
  return { ...session, storyboard: { ...board, shots } };
}

export function updateSettings(session: Session, patch: Partial<RenderSettings>): Session {
  return { ...session, settings: { ...session.settings, ...patch } };
}

export type NewJob = Pick<JobRecord, 'jobId' | 'version' | 'kind' | 'quality' | 'takes' | 'requestedBy'> & Partial<Pick<JobRecord, 'source' | 'parts' | 'request' | 'origin' | 'model'>>;

export function addJob(session: Session, input: NewJob, now: number): { session: Session; job: JobRecord } {
  if (session.jobs.some((j) => j.jobId === input.jobId)) {
    throw new DailiesError('conflict', `Job ${input.jobId} already exists; retry the command.`);
  }
  requireVersion(session, input.version);
  // Field by field rather than `{ ...input, state, … }`: no stray field of the caller's object
  // reaches the stored document, and V8 skips its slow path for a spread followed by new keys.
  const job: JobRecord = {
    jobId: input.jobId,
    version: input.version,
    kind: input.kind,
    quality: input.quality,
    takes: input.takes,
    state: 'queued',
    attempt: 1,
    artifacts: [],
    error: null,
    requestedBy: input.requestedBy,
    createdAt: now,
    updatedAt: now,
  };
  if (input.source) job.source = input.source;
  if (input.parts) job.parts = input.parts;
  if (input.request) job.request = input.request;
  if (input.origin) job.origin = input.origin;
  if (input.model) job.model = input.model;
  return { session: { ...session, jobs: [...session.jobs, job] }, job };
}

export function findJob(session: Session, jobId: string): JobRecord | undefined {
  return session.jobs.find((j) => j.jobId === jobId);
}

export function requireJob(session: Session, jobId: string): JobRecord {
  const job = findJob(session, jobId);
  if (!job) throw new DailiesError('not_found', `Job ${jobId} is not part of this session; use the buttons on a newer message.`);
  return job;
}

export function replaceJob(session: Session, job: JobRecord): Session {
  return { ...session, jobs: session.jobs.map((j) => (j.jobId === job.jobId ? job : j)) };
}

/** Notes a preview message the job posted and the files in it (once per post key index). */
export function recordPreviewPost(session: Session, jobId: string, post: PreviewPost): Session {
  const job = findJob(session, jobId);
  if (!job || job.previewPosts?.some((p) => p.index === post.index)) return session;
  return replaceJob(session, { ...job, previewPosts: [...(job.previewPosts ?? []), post] });
}

export function activeJobs(session: Session): JobRecord[] {
  return session.jobs.filter((j) => !isTerminal(j.state));
}

/** Finished draft jobs with takes (the ones posted with vote buttons), newest first. */
export function doneDrafts(session: Session): JobRecord[] {
  return [...session.jobs].reverse().filter((j) => j.state === 'done' && j.quality === 'draft' && j.artifacts.length > 0);
}

/** The newest finished draft job: the one `/finalize 2` or `/vary 1` refers to without a job id. */
export function latestDoneDraft(session: Session): JobRecord | undefined {
  return doneDrafts(session)[0];
}

export function setBase(session: Session, base: BasePick | null): Session {
  return { ...session, base };
}

/** The seed the next version starts from: a round winner's take, else the current version's. */
export function baseSeed(session: Session): { seed: number; from: BasePick | null } {
  if (session.base) return { seed: session.base.seed, from: session.base };
  return { seed: currentVersion(session).seed, from: null };
}
