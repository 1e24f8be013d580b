import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.ts';
import { decodeShape, encodeShape, type JobShape } from './job-cost.ts';
import type { QueueKeys } from './queue-keys.ts';

/**
 * Fair share on open-source BullMQ, which has no groups: every waiting job carries a BullMQ
 * priority ("band") derived from who else is waiting, and BullMQ serves the lowest band first,
 * first-in-first-out within a band.
 *
 *   userRank     k for the k-th outstanding (waiting or running) job of its owner, by enqueue order
 *   channelRank  its place in its channel when the channel's jobs are sorted by (userRank, enqueue
 *                order), i.e. the channel's own round robin over its people
 *   band         max(userRank, channelRank)
 *
 * So a person's second job waits behind everyone's first, someone who already has a render
 * running waits behind someone who has none, and a busy channel's tenth job waits behind a
 * quiet channel's first, whatever the number of people in the busy one.
 *
 * Why priorities and not a dispatcher of our own (per-user lists fed into BullMQ round robin as
 * workers free up): the jobs stay in BullMQ the whole time, so its atomic fetch, locks,
 * stalled-job recovery, retries and events keep working unchanged on any number of workers and
 * machines, with no extra process or leader to keep alive and no window in which a job has left
 * our list but is not yet in BullMQ's. The price is that bands change when jobs come and go:
 * the scripts below rewrite them atomically on every enqueue and every finish. Each channel keeps
 * its jobs in band order (a sorted set by userRank, then enqueue order), so a job arriving or
 * leaving changes bands only from its own place to the end of that order, plus, when a job leaves,
 * from the new places of its owner's later jobs. Only those tails are rewritten: a newcomer's
 * first job lands at the end of the first-job group, so a burst of 200 people in one channel
 * costs one band write per enqueue rather than 200. The score BullMQ sorts by is
 * `priority * 2^32 + counter`; a rewrite keeps the counter, so a job keeps its place among equals.
 * A band is at most the number of outstanding jobs in its channel, far below BullMQ's ceiling of
 * 2^21 - 1 (and clamped to it).
 *
 * Jobs recovered from a dead worker and jobs handed back at shutdown re-enter BullMQ's plain
 * wait list or the front of their band respectively, so interrupted work resumes first. A long
 * chain hands its worker back between segments on purpose (`requeue`): it goes to the back of the
 * line as if enqueued again, so everyone's jobs take turns with it.
 *
 * Bookkeeping heals itself: a job that finished without its worker reporting it (the worker was
 * killed after BullMQ recorded the result) is pruned the next time its owner enqueues or settles,
 * or when it reaches the front of its channel's order (checked on every call), by looking at
 * BullMQ's own job hash. A job removed behind our back (the queue dashboard) is settled by every
 * listening bot on BullMQ's 'removed' event, and, should none hear it, pruned the same way: the
 * settle that follows a job's add marks it added, after which a missing hash means removed. A
 * fresh reservation whose BullMQ job is not written yet is given `reservationGraceMs` before it
 * counts as abandoned.
 *
 * These scripts read BullMQ's `prioritized` sorted set and job hashes directly, as BullMQ's own
 * scripts do; the integration tests pin that layout (bullmq 5).
 */

export interface FairJob {
  jobId: string;
  userId: string;
  channelKey: string;
  /** Enqueue order. */
  seq: number;
}

export type FairMode = 'fair' | 'fifo';

/** BullMQ's highest priority value. */
export const MAX_BAND = 2_097_151;

/**
 * The bands of all outstanding jobs, as the Lua scripts compute them (the reference the tests
 * compare Redis against). In 'fifo' mode every job is band 1, which leaves plain arrival order.
 */
export function computeBands(outstanding: readonly FairJob[], mode: FairMode = 'fair'): Map<string, number> {
  const bands = new Map<string, number>();
  if (mode === 'fifo') {
    for (const job of outstanding) bands.set(job.jobId, 1);
    return bands;
  }
  const userRank = new Map<string, number>();
  for (const jobs of groupBy(outstanding, (j) => j.userId).values()) {
    jobs.sort((a, b) => a.seq - b.seq).forEach((job, i) => userRank.set(job.jobId, i + 1));
  }
  for (const jobs of groupBy(outstanding, (j) => j.channelKey).values()) {
    jobs.sort((a, b) => userRank.get(a.jobId)! - userRank.get(b.jobId)! || a.seq - b.seq);
    jobs.forEach((job, i) => bands.set(job.jobId, Math.min(Math.max(userRank.get(job.jobId)!, i + 1), MAX_BAND)));
  }
  return bands;
}

/** The order in which BullMQ would start `waiting`, given the bands of all outstanding jobs. */
export function dispatchOrder(waiting: readonly FairJob[], bands: ReadonlyMap<string, number>): FairJob[] {
  return [...waiting].sort((a, b) => bands.get(a.jobId)! - bands.get(b.jobId)! || a.seq - b.seq);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

// The scripts live in ./lua (see its README): admit-3 and settle-2 share prelude.lua, locate-6
// and snapshot-5 share shape-of.lua, pasted in where each says `-- #include`. Read once, here.
const ADMIT = LuaScript.fromFile(new URL('./lua/admit-3.lua', import.meta.url));
const SETTLE = LuaScript.fromFile(new URL('./lua/settle-2.lua', import.meta.url));
const LOCATE = LuaScript.fromFile(new URL('./lua/locate-6.lua', import.meta.url));
const SNAPSHOT = LuaScript.fromFile(new URL('./lua/snapshot-5.lua', import.meta.url));
const REQUEUE = LuaScript.fromFile(new URL('./lua/requeue-3.lua', import.meta.url));

if (!ADMIT.source.includes(`local MAX_BAND = ${MAX_BAND}\n`)) throw new Error('src/queue/lua/prelude.lua: MAX_BAND differs from fair-share.ts');

export type AdmitResult =
  | { kind: 'admitted'; band: number; outstanding: number }
  /** BullMQ already has it. */
  | { kind: 'duplicate' }
  /** Reserved by an earlier admit whose BullMQ add never happened: add it now. */
  | { kind: 'reserved'; band: number; outstanding: number }
  | { kind: 'capped'; outstanding: number };

export interface JobLocation {
  /** 'active' also for a chain waiting for its next turn (see `requeue`). */
  state: 'waiting' | 'delayed' | 'active' | 'other';
  /** 1-based place in fetch order; null unless waiting or delayed. */
  position: number | null;
  /** When this job started, if active (ms since epoch); a chain's first turn. */
  startedAt: number | null;
  /** When each active job started (ms since epoch; 0 if unknown). */
  activeStartedAt: number[];
  /** What the job asks for (takes, steps, frames, quality), if it is in the bookkeeping. */
  shape: JobShape | null;
}

export interface FairShareOptions {
  /** Set by producers (and stored in Redis); workers leave it out and follow the stored one. */
  mode?: FairMode;
  /** How long a reservation may wait for its BullMQ job before it counts as abandoned. */
  reservationGraceMs?: number;
}

/** The Redis side of fair share: admission with a per-person cap, band upkeep, positions. */
export class FairShare {
  readonly mode: FairMode | undefined;
  private readonly graceMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
    options: FairShareOptions = {},
  ) {
    this.mode = options.mode;
    this.graceMs = options.reservationGraceMs ?? 60_000;
  }

  async admit(job: { jobId: string; userId: string; channelKey: string; shape: JobShape }, cap: number): Promise<AdmitResult> {
    if (!this.mode) throw new Error('FairShare.admit needs a mode (producers set it)');
    const [status, band, outstanding] = (await ADMIT.run(
      this.redis,
      [this.keys.fairJobs, this.keys.bull('prioritized'), this.keys.fairSeq],
      [...this.commonArgs(), job.jobId, job.userId, job.channelKey, cap, encodeShape(job.shape)],
    )) as [number, number, number];
    if (status === 1) return { kind: 'admitted', band, outstanding };
    if (status === 2) return { kind: 'reserved', band, outstanding };
    if (status === 0) return { kind: 'duplicate' };
    return { kind: 'capped', outstanding };
  }

  /** Re-derives bands after `jobId` was added, finished or (with `forget`) removed. Idempotent. */
  async settle(jobId: string, options: { forget?: boolean } = {}): Promise<void> {
    await SETTLE.run(
      this.redis,
      [this.keys.fairJobs, this.keys.bull('prioritized')],
      [...this.commonArgs(), jobId, options.forget ? '1' : '0'],
    );
  }

  /**
   * A running job hands its worker back (a chain between segments): it moves to the back of the
   * line as if enqueued now, still outstanding (its owner's cap still counts it), and its new band
   * is written where BullMQ's promotion reads it. `startedAt` is when it first started; `locate`
   * reports it as active from then on. Returns the band, or 0 when the job is not outstanding.
   * Call it just before moving the job out of the active list (Job.moveToDelayed).
   */
  async requeue(jobId: string, startedAt: number): Promise<number> {
    return (await REQUEUE.run(
      this.redis,
      [this.keys.fairJobs, this.keys.bull('prioritized'), this.keys.fairSeq],
      [...this.commonArgs(), jobId, startedAt],
    )) as number;
  }

  /**
   * Jobs a free worker would start now: the wait list, the prioritized set and delayed jobs
   * whose time has come (a chain that just handed its worker back). Chains ask between segments
   * whether anyone is waiting for a turn.
   */
  async waitingCount(now = Date.now()): Promise<number> {
    const k = this.keys;
    const replies = await this.redis
      .multi()
      .llen(k.bull('wait'))
      .zcard(k.bull('prioritized'))
      // BullMQ scores delayed jobs timestamp * 0x1000 + a counter.
      .zcount(k.bull('delayed'), 0, (now + 1) * 0x1000 - 1)
      .exec();
    return (replies ?? []).reduce((sum, [error, n]) => (error ? sum : sum + Number(n)), 0);
  }

  async locate(jobId: string): Promise<JobLocation> {
    const k = this.keys;
    const [state, position, since, shape, ...active] = (await LOCATE.run(
      this.redis,
      [k.bull('wait'), k.bull('paused'), k.bull('prioritized'), k.bull('delayed'), k.bull('active'), k.fairJobs],
      [k.base, jobId],
    )) as [JobLocation['state'], number, number, string, ...number[]];
    return {
      state,
      position: position > 0 ? position : null,
      startedAt: state === 'active' && since > 0 ? since : null,
      activeStartedAt: active.map(Number),
      shape: decodeShape(shape),
    };
  }

  /**
   * All waiting jobs in fetch order (with their shapes, and whether each is a chain waiting for
   * its next turn, see `requeue`), and when each active job started.
   */
  async snapshot(): Promise<{ waiting: string[]; shapes: (JobShape | null)[]; betweenTurns: boolean[]; activeStartedAt: number[] }> {
    const k = this.keys;
    const [waiting, active, shapes, turns] = (await SNAPSHOT.run(
      this.redis,
      [k.bull('wait'), k.bull('paused'), k.bull('prioritized'), k.bull('active'), k.fairJobs],
      [k.base],
    )) as [string[], number[], string[], number[]];
    return { waiting, shapes: shapes.map(decodeShape), betweenTurns: (turns ?? []).map((t) => t === 1), activeStartedAt: active.map(Number) };
  }

  /** Outstanding job ids of one person, oldest first (finished ones may linger until the next settle). */
  async outstanding(userId: string): Promise<string[]> {
    return this.redis.zrange(this.keys.user(userId), 0, -1);
  }

  private commonArgs(): (string | number)[] {
    return [this.keys.base, Date.now(), this.graceMs, this.mode ?? ''];
  }
}
