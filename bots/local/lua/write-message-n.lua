-- Posting and editing must bump the stream's sequence number, log the event and publish it in one
-- step: otherwise two concurrent writes could publish in an order different from their numbers.
-- KEYS[1]               messages hash (id -> JSON)
-- KEYS[2 + 3(i-1) ...]  for stream i: sequence counter, event log (zset scored by seq), message id list
-- ARGV[1] 'post' | 'edit'   ARGV[2] message id   ARGV[3] message JSON
-- ARGV[4] pub/sub channel   ARGV[5] events kept per stream   ARGV[6 ...] stream names
local mode, id, json = ARGV[1], ARGV[2], ARGV[3]
local exists = redis.call('HEXISTS', KEYS[1], id) == 1
if mode == 'edit' and not exists then return redis.error_reply('NOT_FOUND message') end
if mode == 'post' and exists then return redis.error_reply('EXISTS message') end
redis.call('HSET', KEYS[1], id, json)
local keep = tonumber(ARGV[5])
local kind = 'message.edited'
if mode == 'post' then kind = 'message.posted' end
local out = {}
for i = 6, #ARGV do
  local k = 2 + (i - 6) * 3
  local seq = redis.call('INCR', KEYS[k])
  if mode == 'post' then redis.call('RPUSH', KEYS[k + 2], id) end
  local event = '{"stream":"' .. ARGV[i] .. '","seq":' .. seq .. ',"type":"' .. kind .. '","message":' .. json .. '}'
  redis.call('ZADD', KEYS[k + 1], seq, event)
  redis.call('ZREMRANGEBYRANK', KEYS[k + 1], 0, -keep - 1)
  redis.call('PUBLISH', ARGV[4], event)
  out[#out + 1] = seq
  out[#out + 1] = redis.call('LLEN', KEYS[k + 2])
end
return out
