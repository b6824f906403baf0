-- Takes the retries that are due out of the set and claims them (delivery count + 1).
-- KEYS: stream, retries, attempts. ARGV: group, consumer, limit.
-- Returns {{{entry, failed_attempts}, ...}, ms until the next retry is due (-1: none)}.
redis.call('XPENDING', KEYS[1], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
  if claimed[1] then
    out[#out + 1] = {claimed[1], redis.call('HGET', KEYS[3], id) or '0'}
  else
    redis.call('HDEL', KEYS[3], id)
  end
end
local next_due = -1
local first = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if first[2] then
  next_due = tonumber(first[2]) - now
  if next_due < 0 then next_due = 0 end
end
return {out, next_due}
