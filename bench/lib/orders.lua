-- wrk script: POST /api/orders as many buyers, one line, quantity 1, on products with ample stock.
-- Every request has its own Idempotency-Key, so none is a replay. Reads from the environment:
-- BENCH_TOKENS and BENCH_PRODUCTS (files, one value per line), BENCH_RUN (a unique string),
-- BENCH_IDS (a file: the id of every order answered 201, one per line, for the run's checks) and,
-- for a paced run, BENCH_RATE (orders per second).
local common = dofile(os.getenv("BENCH_LIB") .. "/common.lua")

setup = common.setup

function init(args)
  common.init()
  tokens = common.lines(os.getenv("BENCH_TOKENS"))
  products = common.lines(os.getenv("BENCH_PRODUCTS"))
  run = os.getenv("BENCH_RUN")
  ids = io.open(os.getenv("BENCH_IDS") .. "." .. tid, "w")
  ids:setvbuf("line")
  n = 0
end

function request()
  n = n + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1],
    ["Idempotency-Key"] = run .. "-" .. tid .. "-" .. n,
  }
  local body = '{"items":[{"product_id":"' .. products[(n % #products) + 1] .. '","quantity":1}]}'
  return wrk.format("POST", "/api/orders", headers, body)
end

function response(status, headers, body)
  common.count(status, 201)
  if status == 201 then
    local id = body:match('"id"%s*:%s*"([0-9a-fA-F-]+)"')
    if id then ids:write(id, "\n") end
  end
end

delay = common.delay

function done(summary, latency, requests)
  common.done("ORDERS")
end
