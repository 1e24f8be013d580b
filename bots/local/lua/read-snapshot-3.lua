-- The sequence number and the message list are read together so that a browser can fetch the
-- state, then subscribe from exactly that number without gaps or duplicates.
-- KEYS[1] sequence counter   KEYS[2] message id list   KEYS[3] messages hash
-- ARGV[1] how many of the latest messages
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
local total = redis.call('LLEN', KEYS[2])
local ids = redis.call('LRANGE', KEYS[2], -tonumber(ARGV[1]), -1)
local out = { seq, total }
if #ids > 0 then
  local msgs = redis.call('HMGET', KEYS[3], unpack(ids))
  for i = 1, #ids do out[#out + 1] = msgs[i] or '' end
end
return out
