-- wrk script: POST /api/orders as many buyers, one line, quantity 1, on products with ample stock.
-- Every request has its own Idempotency-Key, so none is a replay. Reads BENCH_TOKENS and
-- BENCH_PRODUCTS (files, one value per line) and BENCH_RUN (a unique string) from the environment.
local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

local threads = {}
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
  threads[#threads + 1] = thread
end

function init(args)
  tokens = lines(os.getenv("BENCH_TOKENS"))
  products = lines(os.getenv("BENCH_PRODUCTS"))
  run = os.getenv("BENCH_RUN")
  n = 0
  created = 0
  other = 0
  codes = ""
end

function request()
  n = n + 1
  local token = tokens[(n % #tokens) + 1]
  local product = products[(n % #products) + 1]
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = run .. "-" .. tid .. "-" .. n,
  }
  local body = '{"items":[{"product_id":"' .. product .. '","quantity":1}]}'
  return wrk.format("POST", "/api/orders", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    if #codes < 200 then codes = codes .. status .. " " end
  end
end

function done(summary, latency, requests)
  local c, o, s = 0, 0, ""
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
    s = s .. t:get("codes")
  end
  io.write(string.format("ORDERS created=%d other=%d codes=%s\n", c, o, s))
end
