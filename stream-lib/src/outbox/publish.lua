-- Publishes outbox entries to one stream, but only into the Redis the relay published to before:
-- the stream's epoch key must still hold the epoch the relay remembers (ARGV[1]) and the stream's
-- last generated id must not be below the last id the relay published (ARGV[2]-ARGV[3]).
-- Otherwise Redis lost data: nothing is added and the caller recovers (outbox/recovery.rs).
-- With no entries it is the check alone.
--
-- KEYS[1] the stream, KEYS[2] its epoch key (same hash tag).
-- ARGV[1] epoch, ARGV[2] last ms, ARGV[3] last seq, ARGV[4] fields per entry (name and value
-- each count), ARGV[5..] the entries' fields one entry after another; or ARGV[4] 0 and each
-- entry's count of fields before its fields (entries of different widths: an optional field).
-- Returns {'ok' | 'lost', epoch seen ('' if none), last generated id seen ('' if no stream),
-- the new entries' ids...}.
local epoch = redis.call('GET', KEYS[2]) or ''
local last = ''
local last_ms, last_seq = 0, 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      last = info[i + 1]
      break
    end
  end
  local ms, seq = string.match(last, '^(%d+)-(%d+)$')
  last_ms, last_seq = tonumber(ms), tonumber(seq)
end
local min_ms, min_seq = tonumber(ARGV[2]), tonumber(ARGV[3])
local behind = last_ms < min_ms or (last_ms == min_ms and last_seq < min_seq)
if ARGV[1] == '' or epoch ~= ARGV[1] or behind then
  return {'lost', epoch, last}
end
local reply = {'ok', epoch, last}
local width = tonumber(ARGV[4])
local i = 5
while i <= #ARGV do
  local n = width
  if width == 0 then
    n = tonumber(ARGV[i])
    i = i + 1
  end
  if n <= 0 or i + n - 1 > #ARGV then
    break
  end
  local command = {'XADD', KEYS[1], '*'}
  for j = i, i + n - 1 do
    command[#command + 1] = ARGV[j]
  end
  reply[#reply + 1] = redis.call(unpack(command))
  i = i + n
end
return reply
