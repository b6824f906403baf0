-- Counts one attempt against every counter in KEYS, or none when any is full.
-- KEYS: the counters. ARGV[1]: the window in seconds; ARGV[1 + i]: the limit of KEYS[i].
-- Returns 0 when the attempt was counted, else the seconds until the fullest counter resets.
-- Checking and counting in one script is what bounds a burst of parallel attempts: each one
-- sees the counts of all those before it.
local window = tonumber(ARGV[1])
local retry_after = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 1 then
      ttl = window
    end
    if ttl > retry_after then
      retry_after = ttl
    end
  end
end
if retry_after > 0 then
  return retry_after
end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, window, 'NX')
end
return 0
