-- forget-thread: deletes one thread of the web chat with its messages (retention), in one step so
-- a reader never sees a thread whose messages are half gone.
-- KEYS[1] threads hash (id -> JSON)    KEYS[2] messages hash (id -> JSON)
-- KEYS[3] the thread stream's sequence counter, KEYS[4] its event log, KEYS[5] its message id list
-- KEYS[6] the channel stream's message id list (where the thread's root also shows)
-- KEYS[7] the thread's open forms
-- ARGV[1] thread id
-- Returns how many messages were deleted (0 when the thread was already gone).
local deleted = 0
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then
  local root = cjson.decode(raw).rootMessageId
  if root then
    redis.call('LREM', KEYS[6], 0, root)
    deleted = deleted + redis.call('HDEL', KEYS[2], root)
  end
end
for _, id in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
  deleted = deleted + redis.call('HDEL', KEYS[2], id)
end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[7])
redis.call('HDEL', KEYS[1], ARGV[1])
return deleted
