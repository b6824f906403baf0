-- Shared by bench's wrk scripts: per-thread counters of the statuses seen (ok, other, 5xx), the
-- summary line wrk.py parses, and pacing (BENCH_DELAY_MS, jittered) when the environment asks.
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

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause and pause > 0 then
  M.delay = function() return math.floor(pause * (0.5 + math.random())) end
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
