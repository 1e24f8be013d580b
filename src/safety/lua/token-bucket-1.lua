-- token-bucket: refill then take, atomically, so concurrent commands from one person across bot
-- processes cannot overspend.
-- KEYS[1]  bucket hash {tokens, ts}
-- ARGV[1]  capacity
-- ARGV[2]  refill per millisecond
-- ARGV[3]  now (ms; the caller's clock, so tests can inject time)
-- ARGV[4]  cost
-- ARGV[5]  ttl ms (a full bucket needs no storage)
-- Returns {allowed 0|1, retry-after ms, remaining tokens as a string}.
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
if now > ts then
  tokens = math.min(cap, tokens + (now - ts) * rate)
  ts = now
end
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
elseif rate > 0 then
  wait = math.ceil((cost - tokens) / rate)
else
  wait = -1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {allowed, wait, tostring(tokens)}
