--[[
  Called when a job was added, finished, failed for good or was removed: forgets it if it is no
  longer outstanding, otherwise writes its current band (it may have moved between its admission
  and its add), and rewrites the bands that change.
  KEYS[1] fair:jobs, KEYS[2] BullMQ prioritized
  ARGV[1] key base, ARGV[2] now ms, ARGV[3] reservation grace ms, ARGV[4] mode or '' (stored one)
  ARGV[5] jobId, ARGV[6] '1' to forget it whatever BullMQ says (it was removed)
  Returns 1 if the job was known, 0 if not.
]]
-- #include prelude.lua
local jobId = ARGV[5]
local e = entryOf(jobId)
if not e then return 0 end
if ARGV[6] == '1' or isSettled(jobId, e) then
  forget(jobId, e)
else
  -- BullMQ holds it now: from here on a missing hash means it was removed, not not-yet-added.
  if e.a == nil and rcall('EXISTS', base .. jobId) == 1 then
    e.a = 1
    rcall('HSET', fairJobsKey, jobId, cjson.encode(e))
  end
  local key = orderKey(e.c)
  local at = rcall('ZRANK', key, jobId)
  if at then applyBand(jobId, bandAt(at + 1, tonumber(rcall('ZSCORE', key, jobId)))) end
end
pruneUser(e.u)
pruneHead(e.c)
drain()
return 1
