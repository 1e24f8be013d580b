--[[
  Admits a job into fair-share bookkeeping just before it is added to BullMQ: refuses it when
  its owner is at the cap, reserves it, and rewrites the bands its arrival changes.
  KEYS[1] fair:jobs (hash jobId -> {u, c, s, t, w}; settle adds a = 1 once BullMQ holds the job)
  KEYS[2] BullMQ prioritized (sorted set)
  KEYS[3] fair:seq (counter)
  ARGV[1] key base, ARGV[2] now ms, ARGV[3] reservation grace ms, ARGV[4] 'fair' | 'fifo' (stored
  in <base>fair:mode for settle), ARGV[5] jobId, ARGV[6] userId, ARGV[7] channelKey, ARGV[8] cap,
  ARGV[9] the job's shape for ETAs (job-cost.ts encodeShape)
  Returns {1, band, outstanding} admitted, {0, 0, 0} already in BullMQ, {2, band, outstanding}
  reserved earlier but never added (the caller adds it now), {-1, 0, outstanding} at cap.
]]
-- #include prelude.lua
local jobId, userId, channel, cap = ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
if ARGV[4] ~= '' then rcall('SET', base .. 'fair:mode', ARGV[4]) end
if rcall('EXISTS', base .. jobId) == 1 then return {0, 0, 0} end
local reserved = entryOf(jobId)
if reserved and reserved.a == 1 then
  -- Added once and removed since (its hash is gone): that job is over; this is a new one.
  forget(jobId, reserved)
  reserved = nil
end
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
