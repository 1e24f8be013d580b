-- shape-of: not a script on its own; `-- #include shape-of.lua` pastes it into locate-6 and snapshot-5.
-- A job's shape (job-cost.ts encodeShape) from its fair-share entry, '' when it has none.
-- Expects rcall; used by locate-6 and snapshot-5.
local function shapeOf(fairJobsKey, jobId)
  local entry = rcall('HGET', fairJobsKey, jobId)
  if entry then return cjson.decode(entry).w or '' end
  return ''
end
