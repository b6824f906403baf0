-- wrk script: GETs of the given URL at a paced rate (BENCH_RATE requests per second), counting
-- statuses: the catalog's latency while something else loads the machine.
local common = dofile(os.getenv("BENCH_LIB") .. "/common.lua")

setup = common.setup

function init(args)
  common.init()
end

function response(status, headers, body)
  common.count(status, 200)
end

delay = common.delay

function done(summary, latency, requests)
  common.done("PACED")
end
