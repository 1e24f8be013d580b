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
 * wait list or the front of their band respectively, so interrupted work resumes first.
 *
 * Bookkeeping heals itself: a job that finished without its worker reporting it (the worker was
 * killed after BullMQ recorded the result) is pruned the next time its owner enqueues or settles,
 * or when it reaches the front of its channel's order (checked on every call), by looking at
 * BullMQ's own job hash. A fresh reservation whose BullMQ job is not
 * written yet is given `reservationGraceMs` before it counts as abandoned.
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

// Shared by admit and settle. Expects KEYS[1] fair:jobs, KEYS[2] BullMQ's prioritized set,
// ARGV[1] key base, ARGV[2] now (ms), ARGV[3] reservation grace (ms), ARGV[4] 'fair' | 'fifo', or
// '' for the mode the producers last stored (workers settle jobs without knowing the mode).
// Keys built from ARGV[1] (all under the queue's prefix): <base><jobId> (BullMQ job hash),
// <base>fair:u:<userId> (sorted set of the person's outstanding jobIds by enqueue seq),
// <base>fair:order:<channelKey> (the channel's outstanding jobIds in band order: score
// userRank * 2^32 + seq), <base>fair:mode (string).
//
// Bands are kept incrementally: a job entering or leaving a channel's order can only change the
// bands at and after its place in that order (band = max(userRank, place)), so only that tail is
// rewritten. A burst of first jobs from many people in one channel appends at the end and
// rewrites one band each, instead of every outstanding job on every enqueue.
const PRELUDE = `
local rcall = redis.call
local fairJobsKey = KEYS[1]
local prioritizedKey = KEYS[2]
local base = ARGV[1]
local now = tonumber(ARGV[2])
local graceMs = tonumber(ARGV[3])
local mode = ARGV[4]
if mode == '' then mode = rcall('GET', base .. 'fair:mode') or 'fair' end
local fifo = mode == 'fifo'
local MAX_BAND = ${MAX_BAND}
local BAND = 4294967296
-- Finished jobs still at the front of a channel's order are looked for this deep on every call.
local HEAD_CHECK = 4

local function userKey(u) return base .. 'fair:u:' .. u end
local function orderKey(c) return base .. 'fair:order:' .. c end

local function entryOf(jobId)
  local raw = rcall('HGET', fairJobsKey, jobId)
  if raw then return cjson.decode(raw) end
  return nil
end

-- Finished (BullMQ wrote finishedOn), removed, or a reservation whose add never happened.
local function isSettled(jobId, entry)
  local jobKey = base .. jobId
  if rcall('EXISTS', jobKey) == 0 then
    return now - tonumber(entry.t) > graceMs
  end
  return rcall('HEXISTS', jobKey, 'finishedOn') == 1
end

-- Per channel, the first 0-based place in its order whose band may have changed.
local dirtyFrom, todo, bandOf = {}, {}, {}
local function markFrom(c, place)
  local current = dirtyFrom[c]
  if current == nil then
    todo[#todo + 1] = c
    dirtyFrom[c] = place
  elseif place < current then
    dirtyFrom[c] = place
  end
end

-- (Re)inserts a job into its channel's order with its current user rank.
local function place(jobId, c, rank, seq)
  local key = orderKey(c)
  local before = rcall('ZRANK', key, jobId)
  rcall('ZADD', key, string.format('%.0f', rank * BAND + seq), jobId)
  local after = rcall('ZRANK', key, jobId)
  markFrom(c, math.min(before or after, after))
end

local function forget(jobId, entry)
  local uk = userKey(entry.u)
  local rank0 = rcall('ZRANK', uk, jobId)
  rcall('HDEL', fairJobsKey, jobId)
  rcall('ZREM', uk, jobId)
  local key = orderKey(entry.c)
  local at = rcall('ZRANK', key, jobId)
  if at then
    rcall('ZREM', key, jobId)
    markFrom(entry.c, at)
  end
  if not rank0 then return end
  -- The owner's later jobs each move up one rank, which moves them in their channels' orders.
  local later = rcall('ZRANGE', uk, rank0, -1, 'WITHSCORES')
  for i = 1, #later, 2 do
    local e = entryOf(later[i])
    if e then place(later[i], e.c, rank0 + (i + 1) / 2, tonumber(later[i + 1])) end
  end
end

local checkedUsers = {}
local function pruneUser(u)
  if checkedUsers[u] then return end
  checkedUsers[u] = true
  for _, id in ipairs(rcall('ZRANGE', userKey(u), 0, -1)) do
    local e = entryOf(id)
    if not e then
      rcall('ZREM', userKey(u), id)
    elseif isSettled(id, e) then
      forget(id, e)
    end
  end
end

-- A job whose worker died after BullMQ recorded its result was never settled. Such jobs sort to
-- the front of their channel (they were running, so rank 1 and oldest), where this finds them.
local function pruneHead(c)
  local key = orderKey(c)
  for _, id in ipairs(rcall('ZRANGE', key, 0, HEAD_CHECK - 1)) do
    local e = entryOf(id)
    if not e then
      rcall('ZREM', key, id)
      markFrom(c, 0)
    elseif isSettled(id, e) then
      forget(id, e)
    end
  end
end

local function applyBand(jobId, band)
  local jobKey = base .. jobId
  if rcall('EXISTS', jobKey) == 0 then return end
  local score = rcall('ZSCORE', prioritizedKey, jobId)
  if score then
    score = tonumber(score)
    -- Keep BullMQ's counter (the low 32 bits) so the job keeps its place among equals.
    local newScore = band * BAND + (score % BAND)
    if newScore ~= score then
      rcall('ZADD', prioritizedKey, string.format('%.0f', newScore), jobId)
    end
  end
  -- Retries and promotions re-add the job with this field, so they land in the current band.
  -- Written only when it changes: every write is replicated and appended to the AOF.
  if tonumber(rcall('HGET', jobKey, 'priority')) ~= band then
    rcall('HSET', jobKey, 'priority', band)
  end
end

local function bandAt(place1, score)
  if fifo then return 1 end
  return math.min(math.max(math.floor(score / BAND), place1), MAX_BAND)
end

-- Rewrites the bands of a channel's order from 0-based place \`from\` to its end.
local function reband(c, from)
  local raw = rcall('ZRANGE', orderKey(c), from, -1, 'WITHSCORES')
  for i = 1, #raw, 2 do
    local band = bandAt(from + (i + 1) / 2, tonumber(raw[i + 1]))
    bandOf[raw[i]] = band
    applyBand(raw[i], band)
  end
end

local function drain()
  local i = 1
  while i <= #todo do
    local c = todo[i]
    local from = dirtyFrom[c]
    dirtyFrom[c] = nil
    reband(c, from)
    i = i + 1
  end
end
`;

const ADMIT = new LuaScript(`--[[
  Admits a job into fair-share bookkeeping just before it is added to BullMQ: refuses it when
  its owner is at the cap, reserves it, and rewrites the bands its arrival changes.
  KEYS[1] fair:jobs (hash jobId -> {u, c, s, t})
  KEYS[2] BullMQ prioritized (sorted set)
  KEYS[3] fair:seq (counter)
  ARGV[1] key base, ARGV[2] now ms, ARGV[3] reservation grace ms, ARGV[4] 'fair' | 'fifo' (stored
  in <base>fair:mode for settle), ARGV[5] jobId, ARGV[6] userId, ARGV[7] channelKey, ARGV[8] cap,
  ARGV[9] the job's shape for ETAs (job-cost.ts encodeShape)
  Returns {1, band, outstanding} admitted, {0, 0, 0} already in BullMQ, {2, band, outstanding}
  reserved earlier but never added (the caller adds it now), {-1, 0, outstanding} at cap.
]]
${PRELUDE}
local jobId, userId, channel, cap = ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
if ARGV[4] ~= '' then rcall('SET', base .. 'fair:mode', ARGV[4]) end
if rcall('EXISTS', base .. jobId) == 1 then return {0, 0, 0} end
local reserved = entryOf(jobId)
if reserved then
  -- The producer that reserved it died before BullMQ's add (or the add failed and its cleanup
  -- did not run). Answering "duplicate" here lost such jobs for good: the caller must add it.
  local key = orderKey(reserved.c)
  local at = rcall('ZRANK', key, jobId)
  local band = 1
  if at then band = bandAt(at + 1, tonumber(rcall('ZSCORE', key, jobId))) end
  return {2, band, rcall('ZCARD', userKey(reserved.u))}
end
pruneUser(userId)
pruneHead(channel)
local outstanding = rcall('ZCARD', userKey(userId))
if outstanding >= cap then
  drain()
  return {-1, 0, outstanding}
end
local seq = rcall('INCR', KEYS[3])
rcall('HSET', fairJobsKey, jobId, cjson.encode({u = userId, c = channel, s = seq, t = now, w = ARGV[9]}))
rcall('ZADD', userKey(userId), seq, jobId)
place(jobId, channel, outstanding + 1, seq)
drain()
return {1, bandOf[jobId] or 1, outstanding + 1}
`);

const SETTLE = new LuaScript(`--[[
  Called when a job was added, finished, failed for good or was removed: forgets it if it is no
  longer outstanding, otherwise writes its current band (it may have moved between its admission
  and its add), and rewrites the bands that change.
  KEYS[1] fair:jobs, KEYS[2] BullMQ prioritized
  ARGV[1] key base, ARGV[2] now ms, ARGV[3] reservation grace ms, ARGV[4] mode or '' (stored one)
  ARGV[5] jobId, ARGV[6] '1' to forget it whatever BullMQ says (it was removed)
  Returns 1 if the job was known, 0 if not.
]]
${PRELUDE}
local jobId = ARGV[5]
local e = entryOf(jobId)
if not e then return 0 end
if ARGV[6] == '1' or isSettled(jobId, e) then
  forget(jobId, e)
else
  local key = orderKey(e.c)
  local at = rcall('ZRANK', key, jobId)
  if at then applyBand(jobId, bandAt(at + 1, tonumber(rcall('ZSCORE', key, jobId)))) end
end
pruneUser(e.u)
pruneHead(e.c)
drain()
return 1
`);

// A job's shape (job-cost.ts encodeShape) from its fair-share entry, '' when it has none.
// Expects rcall; used by LOCATE and SNAPSHOT.
const SHAPE_OF = `
local function shapeOf(fairJobsKey, jobId)
  local entry = rcall('HGET', fairJobsKey, jobId)
  if entry then return cjson.decode(entry).w or '' end
  return ''
end
`;

const LOCATE = new LuaScript(`--[[
  Where one job is, in BullMQ's real fetch order: the wait list (stalled and requeued jobs,
  taken from its right end) comes before the prioritized set.
  KEYS[1] wait, KEYS[2] paused, KEYS[3] prioritized, KEYS[4] delayed, KEYS[5] active, KEYS[6] fair:jobs
  ARGV[1] key base, ARGV[2] jobId
  Returns {state, position (-1 if none), processedOn of this job or 0, its shape or '',
  processedOn of each active job...}
  state: 'waiting' | 'delayed' (position it will take when its backoff ends) | 'active' | 'other'
]]
local rcall = redis.call
${SHAPE_OF}
local base, jobId = ARGV[1], ARGV[2]
local waitLen, pausedLen = rcall('LLEN', KEYS[1]), rcall('LLEN', KEYS[2])
local state, position, since = 'other', -1, 0
if rcall('ZSCORE', KEYS[3], jobId) then
  state, position = 'waiting', waitLen + pausedLen + rcall('ZRANK', KEYS[3], jobId) + 1
else
  local idx = rcall('LPOS', KEYS[1], jobId)
  if idx then
    state, position = 'waiting', waitLen - idx
  else
    idx = rcall('LPOS', KEYS[2], jobId)
    if idx then
      state, position = 'waiting', waitLen + pausedLen - idx
    elseif rcall('ZSCORE', KEYS[4], jobId) then
      state = 'delayed'
      local band = tonumber(rcall('HGET', base .. jobId, 'priority')) or 0
      position = waitLen + pausedLen + 1
      if band > 0 then
        position = position + rcall('ZCOUNT', KEYS[3], '-inf', string.format('%.0f', (band + 1) * 4294967296 - 1))
      end
    elseif rcall('LPOS', KEYS[5], jobId) then
      state = 'active'
      since = tonumber(rcall('HGET', base .. jobId, 'processedOn')) or 0
    end
  end
end
local out = {state, position, since, shapeOf(KEYS[6], jobId)}
for _, id in ipairs(rcall('LRANGE', KEYS[5], 0, -1)) do
  out[#out + 1] = tonumber(rcall('HGET', base .. id, 'processedOn')) or 0
end
return out
`);

const SNAPSHOT = new LuaScript(`--[[
  Every waiting job in BullMQ's fetch order with its shape, and when each active job started.
  KEYS[1] wait, KEYS[2] paused, KEYS[3] prioritized, KEYS[4] active, KEYS[5] fair:jobs
  ARGV[1] key base
  Returns {{jobId...}, {processedOn...}, {shape or ''...}}
]]
local rcall = redis.call
${SHAPE_OF}
local ids = {}
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  local list = rcall('LRANGE', key, 0, -1)
  for i = #list, 1, -1 do
    if string.sub(list[i], 1, 2) ~= '0:' then ids[#ids + 1] = list[i] end
  end
end
for _, id in ipairs(rcall('ZRANGE', KEYS[3], 0, -1)) do ids[#ids + 1] = id end
local active = {}
for _, id in ipairs(rcall('LRANGE', KEYS[4], 0, -1)) do
  active[#active + 1] = tonumber(rcall('HGET', ARGV[1] .. id, 'processedOn')) or 0
end
local shapes = {}
for i, id in ipairs(ids) do shapes[i] = shapeOf(KEYS[5], id) end
return {ids, active, shapes}
`);

export type AdmitResult =
  | { kind: 'admitted'; band: number; outstanding: number }
  /** BullMQ already has it. */
  | { kind: 'duplicate' }
  /** Reserved by an earlier admit whose BullMQ add never happened: add it now. */
  | { kind: 'reserved'; band: number; outstanding: number }
  | { kind: 'capped'; outstanding: number };

export interface JobLocation {
  state: 'waiting' | 'delayed' | 'active' | 'other';
  /** 1-based place in fetch order; null unless waiting or delayed. */
  position: number | null;
  /** When this job started, if active (ms since epoch). */
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

  /** All waiting jobs in fetch order (with their shapes), and when each active job started. */
  async snapshot(): Promise<{ waiting: string[]; shapes: (JobShape | null)[]; activeStartedAt: number[] }> {
    const k = this.keys;
    const [waiting, active, shapes] = (await SNAPSHOT.run(
      this.redis,
      [k.bull('wait'), k.bull('paused'), k.bull('prioritized'), k.bull('active'), k.fairJobs],
      [k.base],
    )) as [string[], number[], string[]];
    return { waiting, shapes: shapes.map(decodeShape), activeStartedAt: active.map(Number) };
  }

  /** Outstanding job ids of one person, oldest first (finished ones may linger until the next settle). */
  async outstanding(userId: string): Promise<string[]> {
    return this.redis.zrange(this.keys.user(userId), 0, -1);
  }

  private commonArgs(): (string | number)[] {
    return [this.keys.base, Date.now(), this.graceMs, this.mode ?? ''];
  }
}
