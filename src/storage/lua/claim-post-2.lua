-- claim-post: takes a post key for posting unless it is posted or someone's lease on it is live.
-- KEYS[1]  post key: absent, "~<lease expiry ms>" while claimed, or the posted message's ref JSON
-- KEYS[2]  the set of post keys of the same scope (a job), so retention can delete them without a scan
-- ARGV[1]  now (ms), ARGV[2] lease (ms), ARGV[3] ttl in ms, "0" to keep forever
-- Returns {1} claimed, {0, ref JSON} posted, {0, ""} claimed by a live lease.
local v = redis.call('GET', KEYS[1])
if v and v ~= '' and string.sub(v, 1, 1) ~= '~' then return {0, v} end
if v and string.sub(v, 1, 1) == '~' and tonumber(string.sub(v, 2)) > tonumber(ARGV[1]) then return {0, ''} end
local claim = '~' .. string.format('%.0f', tonumber(ARGV[1]) + tonumber(ARGV[2]))
redis.call('SADD', KEYS[2], KEYS[1])
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], claim, 'PX', ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
else
  redis.call('SET', KEYS[1], claim)
end
return {1}
