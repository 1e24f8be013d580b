-- retitle-thread: stores a thread's new title and announces it on the thread's stream and its
-- channel's, in one step, so a thread retention just deleted is not brought back half-made.
-- KEYS[1] threads hash (id -> JSON)
-- KEYS[2] the channel stream's sequence counter, KEYS[3] its event log
-- KEYS[4] the thread stream's sequence counter, KEYS[5] its event log
-- ARGV[1] thread id   ARGV[2] the thread's JSON with its new title   ARGV[3] the event's JSON members after "type" (starting with a comma)
-- ARGV[4] pub/sub channel   ARGV[5] events kept per stream   ARGV[6] channel stream name   ARGV[7] thread stream name
-- Returns 1, or 0 when the thread is gone.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local keep = tonumber(ARGV[5])
for i = 0, 1 do
  local seq = redis.call('INCR', KEYS[2 + i * 2])
  local event = '{"stream":"' .. ARGV[6 + i] .. '","seq":' .. seq .. ',"type":"thread.updated"' .. ARGV[3] .. '}'
  redis.call('ZADD', KEYS[3 + i * 2], seq, event)
  redis.call('ZREMRANGEBYRANK', KEYS[3 + i * 2], 0, -keep - 1)
  redis.call('PUBLISH', ARGV[4], event)
end
return 1
