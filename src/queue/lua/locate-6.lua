--[[
  Where one job is, in BullMQ's real fetch order: the wait list (stalled and requeued jobs,
  taken from its right end) comes before the prioritized set.
  KEYS[1] wait, KEYS[2] paused, KEYS[3] prioritized, KEYS[4] delayed, KEYS[5] active, KEYS[6] fair:jobs
  ARGV[1] key base, ARGV[2] jobId
  Returns {state, position (-1 if none), processedOn of this job or 0, its shape or '',
  processedOn of each active job...}
  state: 'waiting' | 'delayed' (position it will take when its backoff ends) | 'active' | 'other'
  A job that handed its worker back between turns (requeue-3 stamped its fair-share entry with
  when it first started, `y`) is 'active' with that start: it is rendering as far as people go.
]]
local rcall = redis.call
-- #include shape-of.lua
local base, jobId = ARGV[1], ARGV[2]
local waitLen, pausedLen = rcall('LLEN', KEYS[1]), rcall('LLEN', KEYS[2])
local state, position, since = 'other', -1, 0
if rcall('ZSCORE', KEYS[3], jobId) then
  state, position = 'waiting', waitLen + pausedLen + rcall('ZRANK', KEYS[3], jobId) + 1
else
  local idx = rcall('LPOS', KEYS[1], jobId)
  if idx then
    state, position = 'waiting', waitLen - idx
  else
    idx = rcall('LPOS', KEYS[2], jobId)
    if idx then
      state, position = 'waiting', waitLen + pausedLen - idx
    elseif rcall('ZSCORE', KEYS[4], jobId) then
      state = 'delayed'
      local band = tonumber(rcall('HGET', base .. jobId, 'priority')) or 0
      position = waitLen + pausedLen + 1
      if band > 0 then
        position = position + rcall('ZCOUNT', KEYS[3], '-inf', string.format('%.0f', (band + 1) * 4294967296 - 1))
      end
    elseif rcall('LPOS', KEYS[5], jobId) then
      state = 'active'
      since = tonumber(rcall('HGET', base .. jobId, 'processedOn')) or 0
    end
  end
end
if state == 'waiting' or state == 'delayed' then
  local entry = rcall('HGET', KEYS[6], jobId)
  local firstStart = entry and cjson.decode(entry).y
  if firstStart then state, position, since = 'active', -1, tonumber(firstStart) end
end
local out = {state, position, since, shapeOf(KEYS[6], jobId)}
for _, id in ipairs(rcall('LRANGE', KEYS[5], 0, -1)) do
  out[#out + 1] = tonumber(rcall('HGET', base .. id, 'processedOn')) or 0
end
return out
