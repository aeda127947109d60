-- W4: GET BENCH_PATH (the director's dashboard for the last twelve months) with the
-- director's session cookie (BENCH_SESSION, from run.sh's login as giamdoc).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local req

function init(args)
  req = wrk.format("GET", os.getenv("BENCH_PATH"), { ["Cookie"] = "motcua_session=" .. (os.getenv("BENCH_SESSION") or "") })
end

function request()
  return req
end
