-- Trims the stream below the oldest entry any group still needs: its oldest pending entry, or
-- the first entry after its last-delivered id. Never trims a stream without groups.
-- KEYS: stream. Returns the number of entries removed.
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if type(groups) ~= 'table' or groups.err or #groups == 0 then return 0 end
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1)), string.sub(id, 1, dash - 1)
end
local best_ms, best_seq, best
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local needed
  if tonumber(info['pending']) > 0 then
    needed = redis.call('XPENDING', KEYS[1], info['name'])[2]
  else
    local _, seq, ms_text = parse(info['last-delivered-id'])
    needed = ms_text .. '-' .. string.format('%d', seq + 1)
  end
  local ms, seq = parse(needed)
  if best == nil or ms < best_ms or (ms == best_ms and seq < best_seq) then
    best_ms, best_seq, best = ms, seq, needed
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', best)
