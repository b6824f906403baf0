-- Deletes consumers (other than ARGV[2]) with no pending entries, idle longer than ARGV[3] ms.
-- KEYS: stream. ARGV: group, consumer, idle_ms. Returns how many were deleted.
local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
local deleted = 0
for _, c in ipairs(consumers) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['name'] ~= ARGV[2] and tonumber(info['pending']) == 0
     and tonumber(info['idle']) > tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    deleted = deleted + 1
  end
end
return deleted
