--[[
  Ends a job that has started but is not running right now — a chain waiting in line for its next
  segment, a retry waiting out its backoff, a dead worker's job handed back — as failed with a
  'cancelled' reason, the way BullMQ's own moveToFinished records a failure: finishedOn and
  failedReason in its hash, its id in the failed set, a 'failed' event on the stream (which every
  bot maps to 'cancelled'). Its thread already shows it rendering, so it needs an end the queue
  records and reports, not a silent removal. Reads and writes BullMQ's keys as its scripts do
  (bullmq 5; the integration tests pin the layout).
  KEYS[1] job hash, KEYS[2] wait, KEYS[3] paused, KEYS[4] prioritized, KEYS[5] delayed,
  KEYS[6] failed, KEYS[7] events stream, KEYS[8] meta
  ARGV[1] jobId, ARGV[2] now ms, ARGV[3] failedReason
  Returns 1 ended here; 0 left alone (held by a worker, finished, never started, or not waiting);
  -1 no such job.
]]
local rcall = redis.call
local jobKey, jobId = KEYS[1], ARGV[1]
if rcall('EXISTS', jobKey) == 0 then return -1 end
if rcall('HEXISTS', jobKey, 'finishedOn') == 1 or rcall('EXISTS', jobKey .. ':lock') == 1 then return 0 end
-- Never started: the caller removes it, as it does every waiting job.
if rcall('HEXISTS', jobKey, 'processedOn') == 0 then return 0 end
local removed = rcall('ZREM', KEYS[4], jobId) + rcall('ZREM', KEYS[5], jobId) + rcall('LREM', KEYS[2], 0, jobId) + rcall('LREM', KEYS[3], 0, jobId)
if removed == 0 then return 0 end
rcall('HSET', jobKey, 'finishedOn', ARGV[2], 'failedReason', ARGV[3])
rcall('ZADD', KEYS[6], ARGV[2], jobId)
local maxEvents = rcall('HGET', KEYS[8], 'opts.maxLenEvents') or 10000
rcall('XADD', KEYS[7], 'MAXLEN', '~', maxEvents, '*', 'event', 'failed', 'jobId', jobId, 'failedReason', ARGV[3], 'prev', 'waiting')
return 1
