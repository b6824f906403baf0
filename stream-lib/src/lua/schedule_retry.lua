-- Schedules the retry of a failed entry, only if this consumer still owns it.
-- KEYS: stream, retries, attempts.
-- ARGV: group, consumer, id, attempt (this delivery's), max_attempts, base_ms, factor, cap_ms,
--       spread (the jitter multiplier).
-- Returns {failed_attempts, delay_ms}: delay -1 when the entry is out of attempts (the caller
-- dead-letters it), {0, -2} when another consumer owns it now (nothing changed).
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not p[1] or p[1][2] ~= ARGV[2] then return {0, -2} end
local failed = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0') + 1
local attempt = tonumber(ARGV[4])
if attempt > failed then failed = attempt end
-- Counts only grow: a stale consumer cannot set a lower one.
redis.call('HSET', KEYS[3], ARGV[3], failed)
if failed >= tonumber(ARGV[5]) then return {failed, -1} end
local delay = tonumber(ARGV[6]) * tonumber(ARGV[7]) ^ (failed - 1)
if delay > tonumber(ARGV[8]) then delay = tonumber(ARGV[8]) end
delay = math.floor(delay * tonumber(ARGV[9]))
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now + delay, ARGV[3])
return {failed, delay}
