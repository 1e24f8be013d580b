import type { MessageRef, ThreadRef } from '../core/ports/chat-adapter.ts';
import type { PostKey, Session } from '../core/session.ts';
import { DocumentSessionStore, admissionMember, parseAdmissionMember, parseDueMember, type IndexChanges, type DocumentStoreOptions, type WriteIndexes, type WriteResult } from './document-session-store.ts';
import { DEFAULT_POST_LEASE_MS, postKeyString, type PostClaim } from '../core/ports/session-store.ts';

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
