--[[
  Ends a job that waits in line as failed with the given reason, the way BullMQ's own
  moveToFinished records a failure: finishedOn and failedReason in its hash, its id in the failed
  set, a 'failed' event on the stream (which every bot reads back through job-wire's decodeFailure).
  Two callers:
  - a cancel (ARGV[4] ''), for a job that has started but is not running right now — a chain
    waiting for its next segment, a retry waiting out its backoff, a dead worker's job handed
    back. Its thread shows it rendering, so it needs an end the queue records and reports, not a
    silent removal; a job that never started is left to the caller, which removes it.
  - the unserved-model sweep (ARGV[4] a time in ms), for any waiting job added at or before it
    whose model has had no worker since: it must not wait forever.
  Reads and writes BullMQ's keys as its scripts do (bullmq 5; the integration tests pin the layout).
  KEYS[1] job hash, KEYS[2] wait, KEYS[3] paused, KEYS[4] prioritized, KEYS[5] delayed,
  KEYS[6] failed, KEYS[7] events stream, KEYS[8] meta
  ARGV[1] jobId, ARGV[2] now ms, ARGV[3] failedReason, ARGV[4] '' or the latest add time (ms) to end
  Returns 1 ended here; 0 left alone (held by a worker, finished, not waiting, never started for a
  cancel, added too late for the sweep); -1 no such job.
]]
local rcall = redis.call
local jobKey, jobId = KEYS[1], ARGV[1]
if rcall('EXISTS', jobKey) == 0 then return -1 end
if rcall('HEXISTS', jobKey, 'finishedOn') == 1 or rcall('EXISTS', jobKey .. ':lock') == 1 then return 0 end
if ARGV[4] == '' then
  if rcall('HEXISTS', jobKey, 'processedOn') == 0 then return 0 end
elseif tonumber(rcall('HGET', jobKey, 'timestamp') or '0') > tonumber(ARGV[4]) then
  return 0
end
local removed = rcall('ZREM', KEYS[4], jobId) + rcall('ZREM', KEYS[5], jobId) + rcall('LREM', KEYS[2], 0, jobId) + rcall('LREM', KEYS[3], 0, jobId)
if removed == 0 then return 0 end
rcall('HSET', jobKey, 'finishedOn', ARGV[2], 'failedReason', ARGV[3])
rcall('ZADD', KEYS[6], ARGV[2], jobId)
local maxEvents = rcall('HGET', KEYS[8], 'opts.maxLenEvents') or 10000
rcall('XADD', KEYS[7], 'MAXLEN', '~', maxEvents, '*', 'event', 'failed', 'jobId', jobId, 'failedReason', ARGV[3], 'prev', 'waiting')
return 1
