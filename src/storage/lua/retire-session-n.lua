-- retire-session: takes an idle session out of use, only if nothing touched it since it was read.
-- KEYS[1]  session hash {rev, doc}; renamed to KEYS[2], where only retention reads it
-- KEYS[2]  retired session hash
-- KEYS[3]  activity sorted set, sessions without a kept final
-- KEYS[4]  activity sorted set, sessions with a kept final
-- KEYS[5]  retired sorted set (score: retired at, member: session id), until the purge
-- KEYS[6]  due-rounds, KEYS[7] awaiting-admission, KEYS[8] undelivered sorted sets
-- KEYS[9]  the session's channel's sorted set of sessions with a kept final (the gallery's)
-- KEYS[10] thread index key
-- KEYS[11+] job index keys, then origin index keys, of the session
-- ARGV[1]  expected rev
-- ARGV[2]  session id
-- ARGV[3]  idle cutoff (ms): filed without a kept final at or before it
-- ARGV[4]  kept cutoff (ms), "-1" for none (kept forever)
-- ARGV[5]  now (ms)
-- ARGV[6]  number of rounds N, then N due members; then the job ids
-- Returns 1 retired, 0 touched since, already retired, or gone.
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev == 0 or rev ~= tonumber(ARGV[1]) then return 0 end
local idle = redis.call('ZSCORE', KEYS[3], ARGV[2])
local kept = redis.call('ZSCORE', KEYS[4], ARGV[2])
local due = false
if idle and tonumber(idle) <= tonumber(ARGV[3]) then due = true end
if kept and tonumber(ARGV[4]) >= 0 and tonumber(kept) <= tonumber(ARGV[4]) then due = true end
if not due then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('ZREM', KEYS[9], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[2])
for i = 10, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('DEL', KEYS[i]) end
end
local n = tonumber(ARGV[6])
for i = 7, 6 + n do redis.call('ZREM', KEYS[6], ARGV[i]) end
for i = 7 + n, #ARGV do
  local member = ARGV[2] .. ':' .. ARGV[i]
  redis.call('ZREM', KEYS[7], member)
  redis.call('ZREM', KEYS[8], member)
end
return 1
