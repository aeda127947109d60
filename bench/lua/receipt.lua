-- W5: GET /api/v1/dossiers/{code}/forms/receipt.pdf as a counter officer, rotating over
-- the codes of BENCH_TRACK_LIST ("code<TAB>secret" per line; only the code is used).
-- Each code is asked once unless the run wraps, so every answer is a first render (the
-- generated dossiers have no stored documents): this measures drawing form 01.
--   BENCH_SESSION, BENCH_CSRF   the counter officer's session (from run.sh's login)
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local reqs = {}
local i = 0

function init(args)
  local headers = { ["Cookie"] = "motcua_session=" .. (os.getenv("BENCH_SESSION") or "") }
  local f = assert(io.open(os.getenv("BENCH_TRACK_LIST"), "r"))
  for line in f:lines() do
    local code = string.match(line, "^([^\t]+)\t")
    if code then
      reqs[#reqs + 1] = wrk.format("GET", "/api/v1/dossiers/" .. bench.urlencode(code) .. "/forms/receipt.pdf", headers)
    end
  end
  f:close()
  assert(#reqs > 0, "no dossiers")
  -- Threads start far apart so they do not ask for the same code.
  i = ((tid or 1) - 1) * math.floor(#reqs / 2)
end

function request()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end
