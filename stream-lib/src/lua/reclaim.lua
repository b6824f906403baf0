-- Claims entries pending longer than min-idle that are not waiting for a retry, scanning the
-- pending list from a cursor. KEYS: stream, retries, attempts. ARGV: group, consumer,
-- min_idle_ms, cursor, limit, scan. Returns {next_cursor, {{entry, deliveries, failed}, ...}}.
local start = '-'
if ARGV[4] ~= '0-0' then start = '(' .. ARGV[4] end
local scan = tonumber(ARGV[6])
local limit = tonumber(ARGV[5])
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], start, '+', scan)
local cursor = '0-0'
if #pending >= scan then cursor = pending[#pending][1] end
local out = {}
for i, p in ipairs(pending) do
  if #out >= limit then
    cursor = pending[i - 1][1]
    break
  end
  local id = p[1]
  if not redis.call('ZSCORE', KEYS[2], id) then
    local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], id)
    if claimed[1] then
      out[#out + 1] = {claimed[1], p[4] + 1, redis.call('HGET', KEYS[3], id) or '0'}
    elseif #redis.call('XRANGE', KEYS[1], id, id) == 0 then
      redis.call('HDEL', KEYS[3], id)
    end
  end
end
return {cursor, out}
