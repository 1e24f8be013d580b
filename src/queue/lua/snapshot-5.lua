--[[
  Every waiting job in BullMQ's fetch order with its shape, and when each active job started.
  KEYS[1] wait, KEYS[2] paused, KEYS[3] prioritized, KEYS[4] active, KEYS[5] fair:jobs
  ARGV[1] key base
  Returns {{jobId...}, {processedOn...}, {shape or ''...}, {1 for a chain between turns, else 0...}}
  (a chain between turns: requeue-3 stamped its fair-share entry with its first start, `y`)
]]
local rcall = redis.call
-- #include shape-of.lua
local ids = {}
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  local list = rcall('LRANGE', key, 0, -1)
  for i = #list, 1, -1 do
    if string.sub(list[i], 1, 2) ~= '0:' then ids[#ids + 1] = list[i] end
  end
end
for _, id in ipairs(rcall('ZRANGE', KEYS[3], 0, -1)) do ids[#ids + 1] = id end
local active = {}
for _, id in ipairs(rcall('LRANGE', KEYS[4], 0, -1)) do
  active[#active + 1] = tonumber(rcall('HGET', ARGV[1] .. id, 'processedOn')) or 0
end
local shapes, turns = {}, {}
for i, id in ipairs(ids) do
  shapes[i] = shapeOf(KEYS[5], id)
  local entry = rcall('HGET', KEYS[5], id)
  turns[i] = (entry and cjson.decode(entry).y) and 1 or 0
end
return {ids, active, shapes, turns}
