-- daily-quota: charge a render to a person's and a channel's budget for the day, both or neither,
-- so concurrent commands across bot processes cannot overspend either.
-- KEYS[1]  the person's counter for the day
-- KEYS[2]  the channel's counter for the day
-- ARGV[1]  units to charge
-- ARGV[2]  the person's budget ("-1": none)
-- ARGV[3]  the channel's budget ("-1": none)
-- ARGV[4]  ms until the counters may go (past the day's end)
-- Returns {allowed 0|1, refused by 0 none|1 person|2 channel, person used, channel used}.
local units = tonumber(ARGV[1])
local person = tonumber(redis.call('GET', KEYS[1]) or '0')
local channel = tonumber(redis.call('GET', KEYS[2]) or '0')
local personLimit = tonumber(ARGV[2])
local channelLimit = tonumber(ARGV[3])
if personLimit >= 0 and person + units > personLimit then return {0, 1, person, channel} end
if channelLimit >= 0 and channel + units > channelLimit then return {0, 2, person, channel} end
person = redis.call('INCRBY', KEYS[1], units)
channel = redis.call('INCRBY', KEYS[2], units)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {1, 0, person, channel}
