-- file-kept: KEYS[1] the activity sorted set of sessions with a kept final, KEYS[2] a channel's
-- sorted set of them (the gallery's); ARGV[1] session id. Files the session in its channel's set
-- with its activity score, only while it is still in the kept set (a write since may have taken
-- it out) and only when the channel's set lacks it (a write since has the newer score).
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
return redis.call('ZADD', KEYS[2], 'NX', score, ARGV[1])
