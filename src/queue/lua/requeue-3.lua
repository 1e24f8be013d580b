--[[
  A running job handing its worker back for a while (a chain between two segments): it goes to
  the back of the line as if enqueued now, keeping its owner, its channel and its place in its
  owner's cap. Its new band is written into its BullMQ hash (applyBand), which is where BullMQ's
  promotion of a delayed job reads the priority it re-adds the job with.
  Why a new enqueue order and not just the old band: the job was its owner's first (userRank 1)
  and usually the oldest in its channel, so it would keep band 1 and come straight back ahead of
  the people who arrived while it ran; with a fresh order its band is behind theirs, and the jobs
  take turns. The owner's own other jobs move one rank up, so they take turns with it too.
  KEYS[1] fair:jobs, KEYS[2] BullMQ prioritized, KEYS[3] fair:seq
  ARGV[1] key base, ARGV[2] now ms, ARGV[3] reservation grace ms, ARGV[4] mode or '' (stored one)
  ARGV[5] jobId, ARGV[6] when the job first started (ms), kept from its first turn on
  Returns the job's band, or 0 when it is not outstanding (unknown, or already finished).
]]
-- #include prelude.lua
local jobId = ARGV[5]
local e = entryOf(jobId)
if not e then return 0 end
if isSettled(jobId, e) then
  forget(jobId, e)
  drain()
  return 0
end
forget(jobId, e)
local seq = rcall('INCR', KEYS[3])
e.s = seq
if e.y == nil then e.y = tonumber(ARGV[6]) end
rcall('HSET', fairJobsKey, jobId, cjson.encode(e))
rcall('ZADD', userKey(e.u), seq, jobId)
place(jobId, e.c, rcall('ZCARD', userKey(e.u)), seq)
pruneHead(e.c)
drain()
return bandOf[jobId] or 1
