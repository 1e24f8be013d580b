-- audit-add: appends an audit entry with its `at` as the stream id, drops entries older than the
-- retention window, and lets the whole stream expire once nothing has been added for a window.
-- KEYS[1]  the audit stream
-- ARGV[1]  the entry's `at` (ms), ARGV[2] oldest `at` kept (ms), ARGV[3] retention (ms),
-- ARGV[4]  the entry as JSON
-- Returns the id it was added under.
--
-- Ids are spelled out in full rather than `<ms>-*` (Redis 7) and old entries deleted rather than
-- trimmed with MINID (6.2), so the log works on every Redis BullMQ runs on (5.0 and later).
--
-- An id below the stream's last one is refused by XADD, and bots' clocks differ by a few ms, so
-- an entry that arrives behind a later one is added under the last id's ms, next sequence (its
-- `at` stays in the JSON, and readers order by that). Not the server's clock: it may be far from
-- the writers', and the id must stay near `at` for time-range reads. The last generated id is
-- asked for, not the newest entry's, since the newest entries may have been deleted.
local ms, seq = ARGV[1], -1
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      local lastMs, lastSeq = string.match(info[i + 1], '^(%d+)-(%d+)$')
      if tonumber(lastMs) >= tonumber(ms) then ms, seq = lastMs, tonumber(lastSeq) end
      break
    end
  end
end
local added = redis.call('XADD', KEYS[1], ms .. '-' .. string.format('%.0f', seq + 1), 'e', ARGV[4])
-- Entries leave the window as fast as new ones arrive, so a bounded batch per add keeps up
-- (and keeps each call short); the entry just added goes too when it is already too old.
local oldest = tonumber(ARGV[2])
if oldest > 0 then
  local old = redis.call('XRANGE', KEYS[1], '-', string.format('%.0f', oldest - 1), 'COUNT', 1000)
  if #old > 0 then
    local ids = {}
    for i, entry in ipairs(old) do ids[i] = entry[1] end
    redis.call('XDEL', KEYS[1], unpack(ids))
  end
end
-- A window after the last add, every entry is past the window too: a quiet installation's log
-- goes away by itself, with no sweeper.
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return added
