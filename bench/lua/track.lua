-- W2: GET /api/v1/track/{code}?secret=… rotating over the dossiers listed in
-- BENCH_TRACK_LIST ("code<TAB>tracking_secret" per line). Requests are built once, in init.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local reqs = {}
local i = 0

function init(args)
  local f = assert(io.open(os.getenv("BENCH_TRACK_LIST"), "r"))
  for line in f:lines() do
    local code, secret = string.match(line, "^([^\t]+)\t([^\t]+)$")
    if code then
      reqs[#reqs + 1] = wrk.format("GET", "/api/v1/track/" .. bench.urlencode(code)
        .. "?secret=" .. bench.urlencode(secret))
    end
  end
  f:close()
  assert(#reqs > 0, "no dossiers to track")
  i = ((tid or 1) - 1) * 7919
end

function request()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end
