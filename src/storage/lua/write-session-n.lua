-- write-session: compare-and-set one session document and move its indexes in the same step.
-- KEYS[1]  session hash {rev, doc}
-- KEYS[2]  due-rounds sorted set (score: deadline, member: "<sessionId>:<roundId>")
-- KEYS[3]  awaiting-admission sorted set (score: job created at, member: "<sessionId>:<jobId>")
-- KEYS[4]  undelivered sorted set (score: job created at, member: "<sessionId>:<jobId>")
-- KEYS[5]  activity sorted set of sessions without a kept final (score: last write, member: session id)
-- KEYS[6]  activity sorted set of sessions with a kept final; a write files the session in one, out of the other
-- KEYS[7]  the session's channel's sorted set of sessions with a kept final (score: last write), the gallery's;
--          filed there with KEYS[6], taken out otherwise
-- KEYS[8]  thread index (thread key -> session id); checked only on create, refreshed always
-- KEYS[9+] job index keys (job id -> session id), every job of the session, then origin index
--          keys (chat event -> session id) of the jobs this write adds
-- ARGV[1]  expected rev ("0": the session must not exist)
-- ARGV[2]  new rev
-- ARGV[3]  document JSON
-- ARGV[4]  session id
-- ARGV[5]  "1" on create
-- ARGV[6]  ttl in ms, "0" to keep forever
-- ARGV[7]  this write's time (the activity score)
-- ARGV[8]  "1" when the session holds a kept final
-- ARGV[9+] for KEYS[2], KEYS[3] and KEYS[4] in turn: N, N (score, member) pairs to add, M, M members to remove
-- Returns "ok" | "conflict" | "thread-taken".
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev ~= tonumber(ARGV[1]) then return 'conflict' end
if ARGV[5] == '1' then
  local owner = redis.call('GET', KEYS[8])
  if owner and owner ~= ARGV[4] then return 'thread-taken' end
end
local ttl = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'rev', ARGV[2], 'doc', ARGV[3])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
if ARGV[8] == '1' then
  redis.call('ZADD', KEYS[6], ARGV[7], ARGV[4])
  redis.call('ZADD', KEYS[7], ARGV[7], ARGV[4])
  redis.call('ZREM', KEYS[5], ARGV[4])
else
  redis.call('ZADD', KEYS[5], ARGV[7], ARGV[4])
  redis.call('ZREM', KEYS[6], ARGV[4])
  redis.call('ZREM', KEYS[7], ARGV[4])
end
for i = 8, #KEYS do
  if ttl > 0 then redis.call('SET', KEYS[i], ARGV[4], 'PX', ttl) else redis.call('SET', KEYS[i], ARGV[4]) end
end
local i = 9
for index = 2, 4 do
  local n = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, n do
    redis.call('ZADD', KEYS[index], ARGV[i], ARGV[i + 1])
    i = i + 2
  end
  local m = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, m do
    redis.call('ZREM', KEYS[index], ARGV[i])
    i = i + 1
  end
end
return 'ok'
