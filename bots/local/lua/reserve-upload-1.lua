-- reserve-upload: holds one of a person's upload places while their image is cleaned, so that
-- uploads sent at the same moment cannot together pass the cap (a count then an add could).
-- KEYS[1] the person's live uploads (sorted set: key or reservation -> expiry, ms)
-- ARGV[1] now (ms)   ARGV[2] the cap   ARGV[3] the reservation's member   ARGV[4] its expiry (ms)
-- ARGV[5] how long the set lives after this (ms)
-- Returns 1 when the place is held, 0 when the person already has the cap of live uploads.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
