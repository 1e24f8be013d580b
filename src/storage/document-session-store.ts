import { DailiesError } from '../errors.ts';
import type { MessageRef, ThreadRef } from '../core/ports/chat-adapter.ts';
import type { JobStateName, Person, PostKey, RenderSettings, Session, VersionDraft } from '../core/session.ts';
import {
  addJob,
  appendVersion,
  createSession,
  isUndelivered,
  markDelivered,
  pathTo,
  replaceJob,
  requireJob,
  threadKeyOf,
  transitionJob,
  updateSettings,
  type JobPatch,
  type NewJob,
  type NewSessionInput,
} from '../core/session-state.ts';
import { keepsFinal } from '../core/session-retention.ts';
import { closeExpiredRounds, castVote, markAnnounced, openRound, pickWinner, roundsToWatch, type OpenRoundInput } from '../core/vote-round.ts';
import type { FiledSession, Mutation, PostClaim, SessionStore } from '../core/ports/session-store.ts';

/** What a write changes besides the document itself, so indexes move in the same atomic step. */
export interface WriteIndexes {
  /** On create only: the thread key that must not already name another session. */
  thread?: string;
  /** Job ids that must point at this session. */
  jobs: string[];
  /** Chat events (JobRecord.origin) of new jobs, which must point at this session too. */
  origins: string[];
  /** Open rounds by deadline (member `${sessionId}:${roundId}`). */
  due: IndexChanges;
  /** Queued jobs not yet handed to the queue, by creation time (member `${sessionId}:${jobId}`). */
  admission: IndexChanges;
  /** Jobs whose end is not yet shown in their thread, by creation time (member `${sessionId}:${jobId}`). */
  undelivered: IndexChanges;
  /**
   * Retention's activity index: the session is filed at `at` (this write's time), among sessions
   * with a kept final or not; with one, also in its channel's index (`keptByChannel`), else out of it.
   */
  activity: { at: number; kept: boolean };
}

/** Members to add to (with their score) and remove from one sorted index. */
export interface IndexChanges {
  add: Array<{ member: string; score: number }>;
  remove: string[];
}

export type WriteResult = 'ok' | 'conflict' | 'thread-taken';

export interface DocumentStoreOptions {
  now?: () => number;
  /** How many compare-and-set attempts before giving up (each is one read plus one write). */
  maxAttempts?: number;
}

/**
 * Shared logic of the session stores: every write is read -> pure mutation -> compare-and-set on
 * `rev`, retried on conflict. Backends only implement the document primitives and the NX claims,
 * which keeps the memory fake and the Redis store behaving the same by construction.
 */
export abstract class DocumentSessionStore implements SessionStore {
  protected readonly now: () => number;
  private readonly maxAttempts: number;

  constructor(options: DocumentStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxAttempts = options.maxAttempts ?? 200;
  }

  protected abstract readDoc(sessionId: string): Promise<Session | null>;
  /** Writes `next` only if the stored rev equals `expectedRev` (0: must not exist), with its indexes, atomically. */
  protected abstract writeDoc(next: Session, expectedRev: number, indexes: WriteIndexes): Promise<WriteResult>;
  protected abstract lookupThread(threadKey: string): Promise<string | null>;
  protected abstract lookupJob(jobId: string): Promise<string | null>;
  protected abstract lookupOrigin(origin: string): Promise<string | null>;
  abstract dueRounds(now: number, limit?: number): Promise<Array<{ sessionId: string; roundId: number }>>;
  abstract awaitingAdmission(before: number, limit?: number): Promise<Array<{ sessionId: string; jobId: string }>>;
  abstract admitted(sessionId: string, jobId: string): Promise<boolean>;
  abstract undelivered(offset?: number, limit?: number): Promise<Array<{ sessionId: string; jobId: string }>>;
  abstract claimEvent(eventId: string, ttlMs: number): Promise<boolean>;
  abstract rememberThread(origin: string, thread: ThreadRef, ttlMs: number): Promise<void>;
  abstract threadOfOrigin(origin: string): Promise<ThreadRef | null>;
  abstract confirmEvent(eventId: string, ttlMs: number): Promise<void>;
  abstract claimPost(key: PostKey): Promise<PostClaim>;
  abstract recordPost(key: PostKey, ref: MessageRef): Promise<void>;
  abstract releasePost(key: PostKey): Promise<void>;
  abstract getPost(key: PostKey): Promise<MessageRef | null>;
  abstract idleSessions(idleBefore: number, keptBefore: number | null, offset: number, limit: number): Promise<string[]>;
  abstract retire(sessionId: string, expected: { rev: number; idleBefore: number; keptBefore: number | null }): Promise<boolean>;
  abstract keptByChannel(channelKey: string, page: { limit: number; before?: FiledSession }): Promise<FiledSession[]>;
  abstract retiredSessions(before: number, limit: number): Promise<string[]>;
  abstract getRetired(sessionId: string): Promise<Session | null>;
  abstract purge(sessionId: string): Promise<void>;
  abstract close(): Promise<void>;

  async create(input: NewSessionInput): Promise<Session> {
    const now = this.now();
    const session = createSession(input, now);
    const result = await this.writeDoc(session, 0, { thread: threadKeyOf(input.thread), ...indexesOf(null, session, now) });
    if (result === 'thread-taken') throw new DailiesError('conflict', 'This thread already has a session; refine it with a reply instead of starting a new one.');
    if (result === 'conflict') throw new DailiesError('conflict', `Session ${input.id} already exists; retry the command.`);
    return session;
  }

  get(id: string): Promise<Session | null> {
    return this.readDoc(id);
  }

  async getByThread(thread: ThreadRef): Promise<Session | null> {
    const id = await this.lookupThread(threadKeyOf(thread));
    return id ? this.readDoc(id) : null;
  }

  async getByJob(jobId: string): Promise<Session | null> {
    const id = await this.lookupJob(jobId);
    return id ? this.readDoc(id) : null;
  }

  async getByOrigin(origin: string): Promise<Session | null> {
    const id = await this.lookupOrigin(origin);
    return id ? this.readDoc(id) : null;
  }

  async update<T>(sessionId: string, mutate: Mutation<T>): Promise<{ session: Session; value: T }> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const current = await this.readDoc(sessionId);
      if (!current) throw new DailiesError('not_found', `Session ${sessionId} does not exist (it may have expired); start a new one with /video.`);
      const now = this.now();
      const { session, value } = mutate(current, now);
      if (session === current) return { session, value };
      const next: Session = { ...session, rev: current.rev + 1 };
      const result = await this.writeDoc(next, current.rev, indexesOf(current, next, now));
      if (result === 'ok') return { session: next, value };
      // Contention: spread the retries out so a burst of voters does not retry in lockstep.
      if (attempt > 2) await sleep(Math.random() * Math.min(20, attempt));
    }
    throw new DailiesError('unavailable', 'The session is too busy to update right now; try again in a moment.', { retryable: true });
  }

  async appendVersion(sessionId: string, draft: VersionDraft | ((session: Session) => VersionDraft)) {
    const { session, value } = await this.update(sessionId, (s, now) => {
      const res = appendVersion(s, typeof draft === 'function' ? draft(s) : draft, now);
      return { session: res.session, value: res.version };
    });
    return { session, version: value };
  }

  async updateSettings(sessionId: string, patch: Partial<RenderSettings>): Promise<Session> {
    return (await this.update(sessionId, (s) => ({ session: updateSettings(s, patch), value: null }))).session;
  }

  async addJob(sessionId: string, job: NewJob) {
    const { session, value } = await this.update(sessionId, (s, now) => {
      const res = addJob(s, job, now);
      return { session: res.session, value: res.job };
    });
    return { session, job: value };
  }

  async transitionJob(jobId: string, to: JobStateName, patch: JobPatch = {}) {
    const sessionId = await this.lookupJob(jobId);
    if (!sessionId) throw new DailiesError('not_found', `Job ${jobId} is unknown here; it may belong to another server.`);
    const { session, value } = await this.update(sessionId, (s, now) => {
      let job = requireJob(s, jobId);
      let changed = false;
      const steps = pathTo(job.state, to);
      if (steps.length === 0) steps.push(to);
      for (const step of steps) {
        const res = transitionJob(job, step, now, step === to ? patch : {});
        job = res.job;
        changed ||= res.changed;
      }
      return { session: changed ? replaceJob(s, job) : s, value: { job, changed } };
    });
    return { session, ...value };
  }

  async openRound(sessionId: string, input: OpenRoundInput) {
    const { session, value } = await this.update(sessionId, (s, now) => {
      const res = openRound(s, input, now);
      return { session: res.session, value: { round: res.round, opened: res.opened } };
    });
    return { session, ...value };
  }

  async recordVote(sessionId: string, roundId: number, userId: string, take: number, name?: string) {
    const { session, value } = await this.update(sessionId, (s, now) => {
      const res = castVote(s, roundId, userId, take, now, name);
      return { session: res.session, value: res.result };
    });
    return { session, result: value };
  }

  async closeRound(sessionId: string, roundId: number, pick: { take: number; by: Person }) {
    const { session, value } = await this.update(sessionId, (s, now) => {
      const res = pickWinner(s, roundId, pick.take, pick.by, now);
      return { session: res.session, value: { round: res.round, closedNow: res.closedNow } };
    });
    return { session, ...value };
  }

  async markDelivered(jobId: string): Promise<void> {
    const sessionId = await this.lookupJob(jobId);
    if (!sessionId) return;
    await this.update(sessionId, (s, now) => ({ session: markDelivered(s, jobId, now), value: null }));
  }

  async markAnnounced(sessionId: string, roundId: number): Promise<void> {
    await this.update(sessionId, (s, now) => ({ session: markAnnounced(s, roundId, now), value: null }));
  }

  async closeExpired(sessionId: string) {
    const { session, value } = await this.update(sessionId, (s, now) => {
      const res = closeExpiredRounds(s, now);
      return { session: res.session, value: res.closed };
    });
    return { session, closed: value };
  }
}

function indexesOf(before: Session | null, after: Session, now: number): WriteIndexes {
  const known = new Set(before?.jobs.map((j) => j.jobId));
  // A job awaits admission from the write that records it until admission says the queue has it
  // (`admitted`) or it leaves 'queued' some other way (failed, cancelled, or a worker took it).
  const wasQueued = new Set(before?.jobs.filter((j) => j.state === 'queued').map((j) => j.jobId));
  const nowQueued = new Set(after.jobs.filter((j) => j.state === 'queued').map((j) => j.jobId));
  // A job is undelivered from the write that records it until delivery marks its end shown.
  const wasUndelivered = new Set(before?.jobs.filter(isUndelivered).map((j) => j.jobId));
  const nowUndelivered = new Set(after.jobs.filter(isUndelivered).map((j) => j.jobId));
  return {
    jobs: after.jobs.filter((j) => !known.has(j.jobId)).map((j) => j.jobId),
    origins: [...new Set(after.jobs.flatMap((j) => (!known.has(j.jobId) && j.origin ? [j.origin] : [])))],
    due: dueChanges(before, after),
    admission: {
      add: after.jobs.filter((j) => !known.has(j.jobId) && j.state === 'queued' && j.request).map((j) => ({ member: admissionMember(after.id, j.jobId), score: j.createdAt })),
      remove: [...wasQueued].filter((id) => !nowQueued.has(id)).map((id) => admissionMember(after.id, id)),
    },
    undelivered: {
      add: after.jobs.filter((j) => !known.has(j.jobId) && isUndelivered(j)).map((j) => ({ member: admissionMember(after.id, j.jobId), score: j.createdAt })),
      remove: [...wasUndelivered].filter((id) => !nowUndelivered.has(id)).map((id) => admissionMember(after.id, id)),
    },
    // Every write is activity: a session anyone touched recently stays whole.
    activity: { at: now, kept: keepsFinal(after) },
  };
}

/** Open rounds by deadline, closed-but-unannounced ones by close time (vote-round.ts roundsToWatch). */
function dueChanges(before: Session | null, after: Session): IndexChanges {
  const was = new Map(before ? roundsToWatch(before).map((w) => [w.round.id, w.score]) : []);
  const now = roundsToWatch(after);
  const nowIds = new Set(now.map((w) => w.round.id));
  return {
    add: now.filter((w) => was.get(w.round.id) !== w.score).map((w) => ({ member: `${after.id}:${w.round.id}`, score: w.score })),
    remove: [...was.keys()].filter((id) => !nowIds.has(id)).map((id) => `${after.id}:${id}`),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `${sessionId}:${jobId}` of the admission and undelivered indexes (job ids never contain ':'). */
export function admissionMember(sessionId: string, jobId: string): string {
  return `${sessionId}:${jobId}`;
}

export function parseAdmissionMember(member: string): { sessionId: string; jobId: string } | null {
  const i = member.lastIndexOf(':');
  if (i <= 0 || i === member.length - 1) return null;
  return { sessionId: member.slice(0, i), jobId: member.slice(i + 1) };
}

export function parseDueMember(member: string): { sessionId: string; roundId: number } | null {
  const i = member.lastIndexOf(':');
  const roundId = Number(member.slice(i + 1));
  if (i <= 0 || !Number.isInteger(roundId)) return null;
  return { sessionId: member.slice(0, i), roundId };
}
