-- wrk script: the login storm. POST /api/auth/login for accounts read from BENCH_LOGINS (one
-- "email<TAB>password" per line), in turn.
local common = dofile(os.getenv("BENCH_LIB") .. "/common.lua")

setup = common.setup

function init(args)
  common.init()
  accounts = {}
  for _, line in ipairs(common.lines(os.getenv("BENCH_LOGINS"))) do
    local email, password = line:match("^([^\t]+)\t(.+)$")
    accounts[#accounts + 1] = '{"email":"' .. email .. '","password":"' .. password .. '"}'
  end
  n = 0
end

function request()
  n = n + 1
  return wrk.format("POST", "/api/auth/login", {["Content-Type"] = "application/json"},
    accounts[(n % #accounts) + 1])
end

function response(status, headers, body)
  common.count(status, 200)
end

function done(summary, latency, requests)
  common.done("LOGINS")
end
