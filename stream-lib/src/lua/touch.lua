-- Sets the idle time of entries this consumer still owns (0: heartbeat; claim idle: release at
-- shutdown) without counting a delivery. KEYS: stream. ARGV: group, consumer, idle_ms, ids...
-- Returns the ids another consumer owns now.
local lost = {}
for i = 4, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
