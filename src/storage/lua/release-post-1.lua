-- release-post: KEYS[1] post key; deletes it only while it is a claim (never a posted ref).
local v = redis.call('GET', KEYS[1])
if v and (v == '' or string.sub(v, 1, 1) == '~') then return redis.call('DEL', KEYS[1]) end
return 0
