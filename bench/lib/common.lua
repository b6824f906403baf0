-- Shared by bench's wrk scripts: per-thread counters of the statuses seen (ok, other, 5xx), the
-- summary line wrk.py parses, and pacing when the environment sets BENCH_RATE (requests per second
-- for the thread; bench runs wrk with one): wrk asks delay() before every request of any of the
-- thread's connections, and each answer is the wait until the next slot of a fixed schedule, so
-- the rate holds whatever the latency while a connection is free (none bursts to catch up).
local M = {}
local threads = {}

function M.lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

function M.setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

function M.init()
  ok, other, server_errors, codes = 0, 0, 0, ""
end

function M.count(status, expected)
  if status == expected then
    ok = ok + 1
  else
    other = other + 1
    if status >= 500 then server_errors = server_errors + 1 end
    if #codes < 200 then codes = codes .. status .. " " end
  end
end

local rate = tonumber(os.getenv("BENCH_RATE") or "")
if rate and rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock, bench_timespec *ts);
  ]]
  local ts, interval, due = ffi.new("bench_timespec"), 1000 / rate, nil
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  M.delay = function()
    local now = now_ms()
    due = math.max((due or now) + interval, now)
    return math.floor(due - now)
  end
end

function M.done(what)
  local o, x, s, c = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    x = x + t:get("other")
    s = s + t:get("server_errors")
    c = c .. t:get("codes")
  end
  io.write(string.format("%s ok=%d other=%d server_errors=%d codes=%s\n", what, o, x, s, c))
end

return M
