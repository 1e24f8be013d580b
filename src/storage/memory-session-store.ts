import type { MessageRef, ThreadRef } from '../core/ports/chat-adapter.ts';
import type { PostKey, Session } from '../core/session.ts';
import { DocumentSessionStore, admissionMember, parseAdmissionMember, parseDueMember, type IndexChanges, type DocumentStoreOptions, type WriteIndexes, type WriteResult } from './document-session-store.ts';
import { DEFAULT_POST_LEASE_MS, postKeyString, type FiledSession, type PostClaim } from '../core/ports/session-store.ts';

/**
 * The in-process SessionStore for unit tests and single-process demos. Documents are kept as
 * JSON strings so callers can never mutate stored state through a shared reference, the same
 * guarantee Redis gives.
 */
export class MemorySessionStore extends DocumentSessionStore {
  private readonly docs = new Map<string, string>();
  private readonly revs = new Map<string, number>();
  private readonly threads = new Map<string, string>();
  private readonly jobs = new Map<string, string>();
  private readonly origins = new Map<string, string>();
  private readonly due = new Map<string, number>();
  private readonly admission = new Map<string, number>();
  private readonly undeliveredJobs = new Map<string, number>();
  /** Retention's activity indexes (session id -> last write) and retired documents (id -> retired at). */
  private readonly idle = new Map<string, number>();
  private readonly kept = new Map<string, number>();
  /** The kept index again, per channel key (keptByChannel). */
  private readonly keptInChannel = new Map<string, Map<string, number>>();
  private readonly retired = new Map<string, { doc: string; at: number }>();
  private readonly events = new Map<string, number>();
  private readonly originThreads = new Map<string, { thread: ThreadRef; until: number }>();
  /** A posted message's ref, or the expiry of a claim's lease. */
  private readonly posts = new Map<string, MessageRef | { leaseUntil: number }>();
  private readonly postLeaseMs: number;

  constructor(options: DocumentStoreOptions & { postLeaseMs?: number } = {}) {
    super(options);
    this.postLeaseMs = options.postLeaseMs ?? DEFAULT_POST_LEASE_MS;
  }

  protected async readDoc(sessionId: string): Promise<Session | null> {
    const json = this.docs.get(sessionId);
    return json ? (JSON.parse(json) as Session) : null;
  }

  protected async writeDoc(next: Session, expectedRev: number, indexes: WriteIndexes): Promise<WriteResult> {
    if ((this.revs.get(next.id) ?? 0) !== expectedRev) return 'conflict';
    if (indexes.thread !== undefined) {
      const owner = this.threads.get(indexes.thread);
      if (owner !== undefined && owner !== next.id) return 'thread-taken';
      this.threads.set(indexes.thread, next.id);
    }
    this.docs.set(next.id, JSON.stringify(next));
    this.revs.set(next.id, next.rev);
    for (const jobId of indexes.jobs) this.jobs.set(jobId, next.id);
    for (const origin of indexes.origins) this.origins.set(origin, next.id);
    applyChanges(this.due, indexes.due);
    applyChanges(this.admission, indexes.admission);
    applyChanges(this.undeliveredJobs, indexes.undelivered);
    (indexes.activity.kept ? this.kept : this.idle).set(next.id, indexes.activity.at);
    (indexes.activity.kept ? this.idle : this.kept).delete(next.id);
    if (indexes.activity.kept) this.channelIndex(next.channelKey).set(next.id, indexes.activity.at);
    else this.leaveChannel(next.channelKey, next.id);
    return 'ok';
  }

  protected async lookupThread(threadKey: string): Promise<string | null> {
    return this.threads.get(threadKey) ?? null;
  }

  protected async lookupJob(jobId: string): Promise<string | null> {
    return this.jobs.get(jobId) ?? null;
  }

  protected async lookupOrigin(origin: string): Promise<string | null> {
    return this.origins.get(origin) ?? null;
  }

  async dueRounds(now: number, limit = 100): Promise<Array<{ sessionId: string; roundId: number }>> {
    return upTo(this.due, now, limit).flatMap((member) => {
      const parsed = parseDueMember(member);
      return parsed ? [parsed] : [];
    });
  }

  async awaitingAdmission(before: number, limit = 100): Promise<Array<{ sessionId: string; jobId: string }>> {
    return upTo(this.admission, before, limit).flatMap((member) => {
      const parsed = parseAdmissionMember(member);
      return parsed ? [parsed] : [];
    });
  }

  async undelivered(offset = 0, limit = 100): Promise<Array<{ sessionId: string; jobId: string }>> {
    return upTo(this.undeliveredJobs, Number.POSITIVE_INFINITY, offset + limit)
      .slice(offset)
      .flatMap((member) => {
        const parsed = parseAdmissionMember(member);
        return parsed ? [parsed] : [];
      });
  }

  async admitted(sessionId: string, jobId: string): Promise<boolean> {
    return this.admission.delete(admissionMember(sessionId, jobId));
  }

  async idleSessions(idleBefore: number, keptBefore: number | null, offset: number, limit: number): Promise<string[]> {
    const entries = [...[...this.idle].filter(([, at]) => at <= idleBefore), ...[...this.kept].filter(([, at]) => keptBefore !== null && at <= keptBefore)];
    return entries
      .sort((a, b) => a[1] - b[1])
      .slice(offset, offset + limit)
      .map(([id]) => id);
  }

  private channelIndex(channelKey: string): Map<string, number> {
    let index = this.keptInChannel.get(channelKey);
    if (!index) this.keptInChannel.set(channelKey, (index = new Map()));
    return index;
  }

  private leaveChannel(channelKey: string, sessionId: string): void {
    const index = this.keptInChannel.get(channelKey);
    index?.delete(sessionId);
    if (index?.size === 0) this.keptInChannel.delete(channelKey);
  }

  async keptByChannel(channelKey: string, page: { limit: number; before?: FiledSession }): Promise<FiledSession[]> {
    const { before } = page;
    // The order ZREVRANGEBYSCORE gives: time descending, then id descending.
    return [...(this.keptInChannel.get(channelKey) ?? [])]
      .map(([sessionId, at]) => ({ sessionId, at }))
      .filter((e) => !before || e.at < before.at || (e.at === before.at && e.sessionId < before.sessionId))
      .sort((a, b) => b.at - a.at || (a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0))
      .slice(0, page.limit);
  }

  async retire(sessionId: string, expected: { rev: number; idleBefore: number; keptBefore: number | null }): Promise<boolean> {
    const doc = this.docs.get(sessionId);
    if (!doc || this.revs.get(sessionId) !== expected.rev) return false;
    const idleAt = this.idle.get(sessionId);
    const keptAt = this.kept.get(sessionId);
    const due = (idleAt !== undefined && idleAt <= expected.idleBefore) || (keptAt !== undefined && expected.keptBefore !== null && keptAt <= expected.keptBefore);
    if (!due) return false;
    const session = JSON.parse(doc) as Session;
    this.docs.delete(sessionId);
    this.revs.delete(sessionId);
    this.idle.delete(sessionId);
    this.kept.delete(sessionId);
    this.leaveChannel(session.channelKey, sessionId);
    this.retired.set(sessionId, { doc, at: this.now() });
    for (const index of [this.threads, this.jobs, this.origins]) for (const [k, id] of index) if (id === sessionId) index.delete(k);
    for (const r of session.rounds) this.due.delete(`${sessionId}:${r.id}`);
    for (const j of session.jobs) {
      this.admission.delete(admissionMember(sessionId, j.jobId));
      this.undeliveredJobs.delete(admissionMember(sessionId, j.jobId));
    }
    return true;
  }

  async retiredSessions(before: number, limit: number): Promise<string[]> {
    return [...this.retired]
      .filter(([, r]) => r.at <= before)
      .sort((a, b) => a[1].at - b[1].at)
      .slice(0, limit)
      .map(([id]) => id);
  }

  async getRetired(sessionId: string): Promise<Session | null> {
    const r = this.retired.get(sessionId);
    return r ? (JSON.parse(r.doc) as Session) : null;
  }

  async purge(sessionId: string): Promise<void> {
    const session = await this.getRetired(sessionId);
    for (const job of session?.jobs ?? []) for (const k of this.posts.keys()) if (k.startsWith(`${job.jobId}:`)) this.posts.delete(k);
    this.retired.delete(sessionId);
  }

  async confirmEvent(eventId: string, ttlMs: number): Promise<void> {
    const expires = this.events.get(eventId);
    if (expires !== undefined && expires > this.now()) this.events.set(eventId, this.now() + ttlMs);
  }

  async rememberThread(origin: string, thread: ThreadRef, ttlMs: number): Promise<void> {
    this.originThreads.set(origin, { thread: { ...thread }, until: this.now() + ttlMs });
  }

  async threadOfOrigin(origin: string): Promise<ThreadRef | null> {
    const found = this.originThreads.get(origin);
    return found && found.until > this.now() ? { ...found.thread } : null;
  }

  async claimEvent(eventId: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const expires = this.events.get(eventId);
    if (expires !== undefined && expires > now) return false;
    this.events.set(eventId, now + ttlMs);
    return true;
  }

  async claimPost(key: PostKey): Promise<PostClaim> {
    const k = postKeyString(key);
    const held = this.posts.get(k);
    if (held && !isClaim(held)) return { claimed: false, ref: structuredClone(held) };
    if (held && held.leaseUntil > this.now()) return { claimed: false, ref: null };
    this.posts.set(k, { leaseUntil: this.now() + this.postLeaseMs });
    return { claimed: true };
  }

  async recordPost(key: PostKey, ref: MessageRef): Promise<void> {
    this.posts.set(postKeyString(key), structuredClone(ref));
  }

  async releasePost(key: PostKey): Promise<void> {
    const k = postKeyString(key);
    const held = this.posts.get(k);
    if (held && isClaim(held)) this.posts.delete(k);
  }

  async getPost(key: PostKey): Promise<MessageRef | null> {
    const held = this.posts.get(postKeyString(key));
    return held && !isClaim(held) ? structuredClone(held) : null;
  }

  async close(): Promise<void> {}
}

function isClaim(value: MessageRef | { leaseUntil: number }): value is { leaseUntil: number } {
  return 'leaseUntil' in value;
}

function applyChanges(index: Map<string, number>, changes: IndexChanges): void {
  for (const { member, score } of changes.add) index.set(member, score);
  for (const member of changes.remove) index.delete(member);
}

/** Members scored at or below `max`, lowest first, like ZRANGEBYSCORE -inf max LIMIT 0 limit. */
function upTo(index: Map<string, number>, max: number, limit: number): string[] {
  return [...index.entries()]
    .filter(([, score]) => score <= max)
    .sort((a, b) => a[1] - b[1])
    .slice(0, limit)
    .map(([member]) => member);
}
