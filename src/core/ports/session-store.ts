import type { MessageRef, ThreadRef } from './chat-adapter.ts';
import type { JobRecord, JobStateName, Person, PostKey, PromptVersion, RenderSettings, Session, VersionDraft, VoteRound } from '../session.ts';
import type { JobPatch, NewJob, NewSessionInput } from '../session-state.ts';
import type { OpenRoundInput, VoteResult } from '../vote-round.ts';

/**
 * Where sessions live. Every write is atomic: implementations apply a pure mutation
 * (src/core/session-state.ts, src/core/vote-round.ts) under optimistic concurrency — read the
 * session with its `rev`, compute the next one, write it only if `rev` is unchanged, else retry —
 * so twenty people voting in the same millisecond all get counted.
 *
 * A mutation that returns the session object it was given writes nothing.
 */
export type Mutation<T> = (session: Session, now: number) => { session: Session; value: T };

export type PostClaim = { claimed: true } | { claimed: false; ref: MessageRef | null };

/** A session filed in a sorted index at its last write (ms). */
export interface FiledSession {
  sessionId: string;
  at: number;
}

export interface SessionStore {
  /** Creates a session with v1; DailiesError('conflict') when the thread already has one. */
  create(input: NewSessionInput): Promise<Session>;
  get(id: string): Promise<Session | null>;
  getByThread(thread: ThreadRef): Promise<Session | null>;
  getByJob(jobId: string): Promise<Session | null>;
  /** The session holding a job asked for by this chat event (JobRecord.origin), if any. */
  getByOrigin(origin: string): Promise<Session | null>;

  /** The atomic primitive every write below is made of; DailiesError('not_found') for an unknown id. */
  update<T>(sessionId: string, mutate: Mutation<T>): Promise<{ session: Session; value: T }>;

  /** `draft` may be a function of the latest session so the derivation and the append are one step. */
  appendVersion(sessionId: string, draft: VersionDraft | ((session: Session) => VersionDraft)): Promise<{ session: Session; version: PromptVersion }>;
  updateSettings(sessionId: string, patch: Partial<RenderSettings>): Promise<Session>;
  addJob(sessionId: string, job: NewJob): Promise<{ session: Session; job: JobRecord }>;
  /** Applies a lifecycle step (walking skipped steps, e.g. queued -> rendering -> done). */
  transitionJob(jobId: string, to: JobStateName, patch?: JobPatch): Promise<{ session: Session; job: JobRecord; changed: boolean }>;

  openRound(sessionId: string, input: OpenRoundInput): Promise<{ session: Session; round: VoteRound; opened: boolean }>;
  /** `name`: how the platform shows the voter, kept for the credits of a final. */
  recordVote(sessionId: string, roundId: number, userId: string, take: number, name?: string): Promise<{ session: Session; result: VoteResult }>;
  /** Owner/moderator pick; permission is checked by the caller. */
  closeRound(sessionId: string, roundId: number, pick: { take: number; by: Person }): Promise<{ session: Session; round: VoteRound; closedNow: boolean }>;
  /** Closes rounds past their deadline; writes only when one did. */
  closeExpired(sessionId: string): Promise<{ session: Session; closed: VoteRound[] }>;
  /**
   * Rounds to act on at `now`, across sessions (survives restarts): open ones past their deadline,
   * and closed ones whose result was never posted.
   */
  dueRounds(now: number, limit?: number): Promise<Array<{ sessionId: string; roundId: number }>>;

  /**
   * Queued jobs recorded at or before `before` that admission has not yet confirmed the queue
   * holds, oldest first (survives restarts): the jobs a bot recorded and then died before queueing.
   */
  awaitingAdmission(before: number, limit?: number): Promise<Array<{ sessionId: string; jobId: string }>>;
  /**
   * The queue holds the job now: drops it from `awaitingAdmission`. False when it was no longer
   * there, i.e. the job left 'queued' meanwhile (cancelled before the queue had it) or another
   * process admitted it.
   */
  admitted(sessionId: string, jobId: string): Promise<boolean>;

  /**
   * Jobs whose end is not yet shown in their thread (waiting, running, or finished while no bot
   * delivered it), oldest first, `limit` from `offset`: what delivery's reconciliation walks.
   */
  undelivered(offset?: number, limit?: number): Promise<Array<{ sessionId: string; jobId: string }>>;
  /** Delivery has shown the job's end in full (takes posted, or the failure shown). */
  markDelivered(jobId: string): Promise<void>;
  /** A closed round's result is posted; it leaves the due index. */
  markAnnounced(sessionId: string, roundId: number): Promise<void>;

  /**
   * The thread a command opened, remembered by its chat event (`platform:eventId`) for `ttlMs`
   * right after the platform made it: a retry of a command whose bot died before the session was
   * written reuses that thread instead of opening a second one.
   */
  rememberThread(origin: string, thread: ThreadRef, ttlMs: number): Promise<void>;
  threadOfOrigin(origin: string): Promise<ThreadRef | null>;

  /** SET NX: true the first time an event id is seen within `ttlMs`. */
  claimEvent(eventId: string, ttlMs: number): Promise<boolean>;
  /** Extends a held event claim to `ttlMs` (the event was handled); no-op if the claim lapsed. */
  confirmEvent(eventId: string, ttlMs: number): Promise<void>;
  /**
   * Takes a post key before posting, so a retried job or a restarted bot never posts the same
   * item twice. The claim is a lease: `claimed: false` with `ref: null` means another process is
   * posting it now; once its lease (default 2 min) runs out without a recorded post, the poster
   * is taken to have died and the next claim succeeds, so a crash between claiming and posting
   * delays the item instead of losing it. The one window left is a crash after the platform took
   * the message and before `recordPost`: adapters close it where the platform allows (see
   * ChatAdapter.post's `key`).
   */
  claimPost(key: PostKey): Promise<PostClaim>;
  recordPost(key: PostKey, ref: MessageRef): Promise<void>;
  /** Drops a claim whose post failed (only while still unposted), so a later retry may post. */
  releasePost(key: PostKey): Promise<void>;
  getPost(key: PostKey): Promise<MessageRef | null>;

  /**
   * Retention (src/core/retention.ts). Every write files the session by its time under one of two
   * activity indexes: sessions with a kept final (session-retention.ts `keepsFinal`) and the rest.
   * Ids of sessions last written at or before `idleBefore` (no kept final) or `keptBefore` (with
   * one; null: kept forever), oldest first, `limit` from `offset` (past the ones a sweep skipped).
   */
  idleSessions(idleBefore: number, keptBefore: number | null, offset: number, limit: number): Promise<string[]>;
  /**
   * Takes an idle session out of use in one atomic step, only while it is still at `rev` and still
   * filed at or before its cutoff (a write since then makes it fresh and this false): its thread,
   * job and origin indexes and its places in every sorted index go, and it is filed as retired
   * with its document kept, so the files it names can be deleted next. False also when another
   * process retired it first.
   */
  retire(sessionId: string, expected: { rev: number; idleBefore: number; keptBefore: number | null }): Promise<boolean>;
  /**
   * A channel's sessions with a kept final (the same ones as retention's kept index: a take won a
   * vote or a final was rendered), newest write first: what the gallery pages through without a
   * scan. Each write files its session here or takes it out in the same atomic step, and retiring
   * takes it out. `before` is the last one of the previous page; sessions written in the same
   * millisecond follow in descending id order, so a page boundary between them skips none.
   */
  keptByChannel(channelKey: string, page: { limit: number; before?: FiledSession }): Promise<FiledSession[]>;
  /** Retired sessions whose purge has not happened, retired at or before `before`: a sweeper that died half way. */
  retiredSessions(before: number, limit: number): Promise<string[]>;
  /** The document of a retired session (gone from `get`'s indexes, not from here), or null once purged. */
  getRetired(sessionId: string): Promise<Session | null>;
  /** Deletes a retired session's document and the post records of its jobs; a no-op when already purged. */
  purge(sessionId: string): Promise<void>;

  close(): Promise<void>;
}

/** How long a post claim holds without a recorded post before another process may take it over. */
export const DEFAULT_POST_LEASE_MS = 120_000;

export function postKeyString(key: PostKey): string {
  return `${key.scope}:${key.kind}:${key.index}`;
}
