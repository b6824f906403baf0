-- Gives back a counted attempt that succeeded. KEYS: counters to decrement (kept while they
-- exist, so an expired window is not recreated without a TTL). ARGV[1]: how many of the first
-- KEYS to decrement; the rest are deleted (the client proved who it is).
local decrements = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if i <= decrements then
    if tonumber(redis.call('GET', key) or '0') > 0 then
      redis.call('DECR', key)
    end
  else
    redis.call('DEL', key)
  end
end
return 0
