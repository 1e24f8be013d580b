-- prelude: not a script on its own; `-- #include prelude.lua` pastes it into admit-3 and settle-2.
-- Shared by admit and settle. Expects KEYS[1] fair:jobs, KEYS[2] BullMQ's prioritized set,
-- ARGV[1] key base, ARGV[2] now (ms), ARGV[3] reservation grace (ms), ARGV[4] 'fair' | 'fifo', or
-- '' for the mode the producers last stored (workers settle jobs without knowing the mode).
-- Keys built from ARGV[1] (all under the queue's prefix): <base><jobId> (BullMQ job hash),
-- <base>fair:u:<userId> (sorted set of the person's outstanding jobIds by enqueue seq),
-- <base>fair:order:<channelKey> (the channel's outstanding jobIds in band order: score
-- userRank * 2^32 + seq), <base>fair:mode (string).
--
-- Bands are kept incrementally: a job entering or leaving a channel's order can only change the
-- bands at and after its place in that order (band = max(userRank, place)), so only that tail is
-- rewritten. A burst of first jobs from many people in one channel appends at the end and
-- rewrites one band each, instead of every outstanding job on every enqueue.
local rcall = redis.call
local fairJobsKey = KEYS[1]
local prioritizedKey = KEYS[2]
local base = ARGV[1]
local now = tonumber(ARGV[2])
local graceMs = tonumber(ARGV[3])
local mode = ARGV[4]
if mode == '' then mode = rcall('GET', base .. 'fair:mode') or 'fair' end
local fifo = mode == 'fifo'
-- BullMQ's highest priority; fair-share.ts checks it equals its MAX_BAND when it loads this file.
local MAX_BAND = 2097151
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

-- Finished (BullMQ wrote finishedOn), removed, or a reservation whose add never happened. A job
-- whose add was seen (entry.a, set by the settle that follows it) and whose hash is gone was
-- removed (a dashboard, a cancel) and is settled at once; only a reservation waits out the grace.
local function isSettled(jobId, entry)
  local jobKey = base .. jobId
  if rcall('EXISTS', jobKey) == 0 then
    return entry.a == 1 or now - tonumber(entry.t) > graceMs
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

-- Rewrites the bands of a channel's order from 0-based place `from` to its end.
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
