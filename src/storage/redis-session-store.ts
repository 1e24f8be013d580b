import { Redis } from 'ioredis';
import { DailiesError } from '../errors.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { reachRedis } from '../redis/unreachable.ts';
import type { MessageRef, ThreadRef } from '../core/ports/chat-adapter.ts';
import type { PostKey, Session } from '../core/session.ts';
import { threadKeyOf } from '../core/session-state.ts';
import { DocumentSessionStore, admissionMember, parseAdmissionMember, parseDueMember, type IndexChanges, type WriteIndexes, type WriteResult } from './document-session-store.ts';
import { DEFAULT_POST_LEASE_MS, postKeyString, type FiledSession, type PostClaim } from '../core/ports/session-store.ts';

// The scripts, one file each in ./lua (KEYS and ARGV at the top of each), read once at load.
const WRITE_SESSION = LuaScript.fromFile(new URL('./lua/write-session-n.lua', import.meta.url));
const CLAIM_POST = LuaScript.fromFile(new URL('./lua/claim-post-2.lua', import.meta.url));
const RETIRE_SESSION = LuaScript.fromFile(new URL('./lua/retire-session-n.lua', import.meta.url));
const RELEASE_POST = LuaScript.fromFile(new URL('./lua/release-post-1.lua', import.meta.url));
const FILE_KEPT = LuaScript.fromFile(new URL('./lua/file-kept-2.lua', import.meta.url));

export interface RedisSessionStoreOptions {
  /** An ioredis client (left open on close) or a redis:// URL (the store owns that client). */
  redis: Redis | string;
  /** Every key starts with it; tests use a random one. */
  prefix?: string;
  /** Expire sessions and their indexes this long after their last write; default: keep forever. */
  ttlMs?: number;
  /** How long post records are kept; default: as long as sessions. */
  postTtlMs?: number;
  /** How long a post claim holds before another process may take it over; see SessionStore.claimPost. */
  postLeaseMs?: number;
  now?: () => number;
  maxAttempts?: number;
}

/**
 * SessionStore on Redis: one hash per session holding the JSON document and its `rev`, written
 * only by the compare-and-set script above, so a bot restart loses nothing and concurrent
 * writers from several bot processes are serialised by Redis itself.
 */
export class RedisSessionStore extends DocumentSessionStore {
  private readonly redis: Redis;
  private readonly ownsClient: boolean;
  readonly prefix: string;
  private readonly ttlMs: number;
  private readonly postTtlMs: number;
  private readonly postLeaseMs: number;

  constructor(options: RedisSessionStoreOptions) {
    super({ now: options.now, maxAttempts: options.maxAttempts });
    this.ownsClient = typeof options.redis === 'string';
    this.redis = typeof options.redis === 'string' ? new Redis(options.redis, { lazyConnect: false }) : options.redis;
    this.prefix = options.prefix ?? 'dailies:';
    this.ttlMs = options.ttlMs ?? 0;
    this.postTtlMs = options.postTtlMs ?? this.ttlMs;
    this.postLeaseMs = options.postLeaseMs ?? DEFAULT_POST_LEASE_MS;
  }

  private key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  /** The sorted set of a channel's sessions with a kept final (keptByChannel). */
  private channelIndexKey(channelKey: string): string {
    return this.key('channel-kept', channelKey);
  }

  protected async readDoc(sessionId: string): Promise<Session | null> {
    const json = await reachRedis(this.redis.hget(this.key('session', sessionId), 'doc'));
    if (!json) return null;
    try {
      return JSON.parse(json) as Session;
    } catch (cause) {
      throw new DailiesError('internal', `Session ${sessionId} is unreadable in Redis; restore it from a backup or delete the key.`, { cause });
    }
  }

  protected async writeDoc(next: Session, expectedRev: number, indexes: WriteIndexes): Promise<WriteResult> {
    const threadKey = this.key('thread', threadKeyOf(next.thread));
    const keys = [
      this.key('session', next.id),
      this.key('rounds', 'due'),
      this.key('jobs', 'awaiting-admission'),
      this.key('jobs', 'undelivered'),
      this.key('activity', 'idle'),
      this.key('activity', 'kept'),
      this.channelIndexKey(next.channelKey),
      threadKey,
      ...next.jobs.map((j) => this.key('job', j.jobId)),
      ...indexes.origins.map((o) => this.key('origin', o)),
    ];
    const args: Array<string | number> = [
      expectedRev,
      next.rev,
      JSON.stringify(next),
      next.id,
      indexes.thread !== undefined ? '1' : '0',
      this.ttlMs,
      indexes.activity.at,
      indexes.activity.kept ? '1' : '0',
      ...changeArgs(indexes.due),
      ...changeArgs(indexes.admission),
      ...changeArgs(indexes.undelivered),
    ];
    const result = await reachRedis(WRITE_SESSION.run(this.redis, keys, args));
    if (result === 'ok' || result === 'conflict' || result === 'thread-taken') return result;
    throw new DailiesError('internal', `Redis answered "${String(result)}" to a session write; check the Redis server version (>= 6.2).`);
  }

  protected lookupThread(threadKey: string): Promise<string | null> {
    return reachRedis(this.redis.get(this.key('thread', threadKey)));
  }

  protected lookupJob(jobId: string): Promise<string | null> {
    return reachRedis(this.redis.get(this.key('job', jobId)));
  }

  protected lookupOrigin(origin: string): Promise<string | null> {
    return reachRedis(this.redis.get(this.key('origin', origin)));
  }

  async dueRounds(now: number, limit = 100): Promise<Array<{ sessionId: string; roundId: number }>> {
    const members = await reachRedis(this.redis.zrangebyscore(this.key('rounds', 'due'), '-inf', now, 'LIMIT', 0, limit));
    return members.flatMap((m) => {
      const parsed = parseDueMember(m);
      return parsed ? [parsed] : [];
    });
  }

  async awaitingAdmission(before: number, limit = 100): Promise<Array<{ sessionId: string; jobId: string }>> {
    const members = await reachRedis(this.redis.zrangebyscore(this.key('jobs', 'awaiting-admission'), '-inf', before, 'LIMIT', 0, limit));
    return members.flatMap((m) => {
      const parsed = parseAdmissionMember(m);
      return parsed ? [parsed] : [];
    });
  }

  async undelivered(offset = 0, limit = 100): Promise<Array<{ sessionId: string; jobId: string }>> {
    const members = await reachRedis(this.redis.zrange(this.key('jobs', 'undelivered'), offset, offset + limit - 1));
    return members.flatMap((m) => {
      const parsed = parseAdmissionMember(m);
      return parsed ? [parsed] : [];
    });
  }

  async admitted(sessionId: string, jobId: string): Promise<boolean> {
    return (await reachRedis(this.redis.zrem(this.key('jobs', 'awaiting-admission'), admissionMember(sessionId, jobId)))) === 1;
  }

  async idleSessions(idleBefore: number, keptBefore: number | null, offset: number, limit: number): Promise<string[]> {
    // The first offset + limit of each index, merged: the page of the two together by time.
    const idle = await reachRedis(this.redis.zrangebyscore(this.key('activity', 'idle'), '-inf', idleBefore, 'WITHSCORES', 'LIMIT', 0, offset + limit));
    const kept = keptBefore === null ? [] : await reachRedis(this.redis.zrangebyscore(this.key('activity', 'kept'), '-inf', keptBefore, 'WITHSCORES', 'LIMIT', 0, offset + limit));
    return [...pairs(idle), ...pairs(kept)]
      .sort((a, b) => a.score - b.score)
      .slice(offset, offset + limit)
      .map((e) => e.member);
  }

  /**
   * Files every session with a kept final in its channel's gallery index. Sessions written before
   * that index existed are only in the kept activity index; every later write files them itself.
   * Idempotent and safe beside live writes (file-kept-2.lua); after one complete pass a marker key
   * makes later calls one read. Returns how many sessions it filed.
   */
  async fileKeptByChannel(pageSize = 200): Promise<number> {
    const done = this.key('migrated', 'channel-kept');
    if (await reachRedis(this.redis.exists(done))) return 0;
    let filed = 0;
    // ZSCAN returns every member present for the whole scan, however the set changes meanwhile.
    let cursor = '0';
    do {
      const [next, flat] = await reachRedis(this.redis.zscan(this.key('activity', 'kept'), cursor, 'COUNT', pageSize));
      cursor = next;
      const ids = flat.filter((_, i) => i % 2 === 0);
      for (const id of ids) {
        const session = await this.readDoc(id).catch(() => null);
        if (!session) continue;
        filed += Number(await reachRedis(FILE_KEPT.run(this.redis, [this.key('activity', 'kept'), this.channelIndexKey(session.channelKey)], [id])));
      }
    } while (cursor !== '0');
    await reachRedis(this.redis.set(done, String(this.now())));
    return filed;
  }

  async keptByChannel(channelKey: string, page: { limit: number; before?: FiledSession }): Promise<FiledSession[]> {
    const key = this.channelIndexKey(channelKey);
    const { before, limit } = page;
    if (!before) return pairs(await reachRedis(this.redis.zrevrangebyscore(key, '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, limit))).map(filed);
    // Members of one score come in descending id order: those of the cursor's millisecond after
    // it first (a handful at most), then older ones; read in one transaction so they agree.
    const replies = await reachRedis(
      this.redis
        .multi()
        .zrevrangebyscore(key, before.at, before.at)
        .zrevrangebyscore(key, `(${before.at}`, '-inf', 'WITHSCORES', 'LIMIT', 0, limit)
        .exec(),
    );
    const [ties, older] = (replies ?? []).map(([error, value]) => {
      if (error) throw error;
      return value as string[];
    });
    const sameMs = (ties ?? []).filter((id) => id < before.sessionId).map((sessionId) => ({ sessionId, at: before.at }));
    return [...sameMs, ...pairs(older ?? []).map(filed)].slice(0, limit);
  }

  async retire(sessionId: string, expected: { rev: number; idleBefore: number; keptBefore: number | null }): Promise<boolean> {
    const session = await this.readDoc(sessionId);
    if (!session || session.rev !== expected.rev) return false;
    const keys = [
      this.key('session', sessionId),
      this.key('retired', sessionId),
      this.key('activity', 'idle'),
      this.key('activity', 'kept'),
      this.key('retired'),
      this.key('rounds', 'due'),
      this.key('jobs', 'awaiting-admission'),
      this.key('jobs', 'undelivered'),
      this.channelIndexKey(session.channelKey),
      this.key('thread', threadKeyOf(session.thread)),
      ...session.jobs.map((j) => this.key('job', j.jobId)),
      ...session.jobs.flatMap((j) => (j.origin ? [this.key('origin', j.origin)] : [])),
    ];
    const args = [expected.rev, sessionId, expected.idleBefore, expected.keptBefore ?? -1, this.now(), session.rounds.length, ...session.rounds.map((r) => `${sessionId}:${r.id}`), ...session.jobs.map((j) => j.jobId)];
    return (await reachRedis(RETIRE_SESSION.run(this.redis, keys, args))) === 1;
  }

  async retiredSessions(before: number, limit: number): Promise<string[]> {
    return reachRedis(this.redis.zrangebyscore(this.key('retired'), '-inf', before, 'LIMIT', 0, limit));
  }

  async getRetired(sessionId: string): Promise<Session | null> {
    const json = await reachRedis(this.redis.hget(this.key('retired', sessionId), 'doc'));
    return json ? (JSON.parse(json) as Session) : null;
  }

  async purge(sessionId: string): Promise<void> {
    const session = await this.getRetired(sessionId);
    const sets = (session?.jobs ?? []).map((j) => this.key('posts', j.jobId));
    const posts = sets.length > 0 ? await reachRedis(this.redis.sunion(...sets)) : [];
    await reachRedis(
      this.redis
        .multi()
        .del(this.key('retired', sessionId), ...sets, ...posts)
        .zrem(this.key('retired'), sessionId)
        .exec(),
    );
  }

  async confirmEvent(eventId: string, ttlMs: number): Promise<void> {
    await reachRedis(this.redis.set(this.key('event', eventId), '1', 'PX', Math.max(1, Math.floor(ttlMs)), 'XX'));
  }

  async rememberThread(origin: string, thread: ThreadRef, ttlMs: number): Promise<void> {
    await reachRedis(this.redis.set(this.key('origin-thread', origin), JSON.stringify(thread), 'PX', Math.max(1, Math.floor(ttlMs))));
  }

  async threadOfOrigin(origin: string): Promise<ThreadRef | null> {
    const json = await reachRedis(this.redis.get(this.key('origin-thread', origin)));
    if (!json) return null;
    try {
      return JSON.parse(json) as ThreadRef;
    } catch {
      return null;
    }
  }

  async claimEvent(eventId: string, ttlMs: number): Promise<boolean> {
    const ok = await reachRedis(this.redis.set(this.key('event', eventId), '1', 'PX', Math.max(1, Math.floor(ttlMs)), 'NX'));
    return ok === 'OK';
  }

  async claimPost(key: PostKey): Promise<PostClaim> {
    const [claimed, ref] = (await reachRedis(CLAIM_POST.run(this.redis, [this.key('post', postKeyString(key)), this.key('posts', key.scope)], [this.now(), this.postLeaseMs, this.postTtlMs]))) as [number, string?];
    if (claimed === 1) return { claimed: true };
    return { claimed: false, ref: parseRef(ref ?? null) };
  }

  async recordPost(key: PostKey, ref: MessageRef): Promise<void> {
    const k = this.key('post', postKeyString(key));
    // Filed under its scope (a job) too, as the claim does, so retention finds it without a scan.
    const write = this.redis.multi().sadd(this.key('posts', key.scope), k);
    if (this.postTtlMs > 0) write.set(k, JSON.stringify(ref), 'PX', this.postTtlMs).pexpire(this.key('posts', key.scope), this.postTtlMs);
    else write.set(k, JSON.stringify(ref));
    await reachRedis(write.exec());
  }

  async releasePost(key: PostKey): Promise<void> {
    await reachRedis(RELEASE_POST.run(this.redis, [this.key('post', postKeyString(key))], []));
  }

  async getPost(key: PostKey): Promise<MessageRef | null> {
    return parseRef(await reachRedis(this.redis.get(this.key('post', postKeyString(key)))));
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit();
  }
}

function parseRef(value: string | null): MessageRef | null {
  if (!value) return null;
  try {
    return JSON.parse(value) as MessageRef;
  } catch {
    return null;
  }
}

/** [member, score, member, score, ...] as ZRANGEBYSCORE WITHSCORES answers. */
function pairs(flat: string[]): Array<{ member: string; score: number }> {
  const out: Array<{ member: string; score: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: flat[i]!, score: Number(flat[i + 1]) });
  return out;
}

function filed(e: { member: string; score: number }): FiledSession {
  return { sessionId: e.member, at: e.score };
}

function changeArgs(changes: IndexChanges): Array<string | number> {
  return [changes.add.length, ...changes.add.flatMap((c) => [c.score, c.member]), changes.remove.length, ...changes.remove];
}
