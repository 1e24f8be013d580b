-- append-event: logs one non-message event (thread.updated) on a stream and publishes it, numbered like write-message-n.
-- KEYS[1] sequence counter   KEYS[2] event log
-- ARGV[1] stream name   ARGV[2] event type   ARGV[3] JSON members after "type" (starting with a comma)
-- ARGV[4] pub/sub channel   ARGV[5] events kept
local seq = redis.call('INCR', KEYS[1])
local event = '{"stream":"' .. ARGV[1] .. '","seq":' .. seq .. ',"type":"' .. ARGV[2] .. '"' .. ARGV[3] .. '}'
redis.call('ZADD', KEYS[2], seq, event)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[5]) - 1)
redis.call('PUBLISH', ARGV[4], event)
return seq
