-- W1: POST /api/v1/dossiers as a counter officer.
--   BENCH_BODY_FILE   the JSON bodies, one per line (run.sh writes them from dossier.json
--                     and the procedures); requests take them in turn
--   BENCH_SESSION     value of the motcua_session cookie (from one login by run.sh)
--   BENCH_CSRF        the session's csrf_token
--   BENCH_TRACK_OUT   file prefix: each thread appends "code<TAB>tracking_secret" of
--                     every 201 to BENCH_TRACK_OUT.<thread> (W2 replays them)
-- A thread stops at its first 409: a receiving agency's 4-digit daily code sequence (9,999
-- dossiers per agency per day) is used up. The rate is then 201s over the time they took,
-- measured here, since wrk's own duration always covers the whole -d.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local bodies = {}
local f = assert(io.open(os.getenv("BENCH_BODY_FILE") or (os.getenv("BENCH_LUA_DIR") .. "/dossier.json"), "r"))
for line in f:lines() do
  if string.match(line, "%S") then bodies[#bodies + 1] = line end
end
f:close()
assert(#bodies > 0, "no request body in BENCH_BODY_FILE")

wrk.method = "POST"
wrk.body = bodies[1]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "motcua_session=" .. (os.getenv("BENCH_SESSION") or "")
wrk.headers["X-CSRF-Token"] = os.getenv("BENCH_CSRF") or ""

-- Several bodies: each request takes the next (threads start at different ones).
if #bodies > 1 then
  local turn = nil
  function request()
    turn = ((turn or (tid or 0)) % #bodies) + 1
    return wrk.format(nil, nil, nil, bodies[turn])
  end
end

-- Per-thread globals, read back by done() through thread:get.
created = 0
t_first = 0
t_last = 0
capped = 0
others = ""

local counts = {}
local out = nil

function init(args)
  local prefix = os.getenv("BENCH_TRACK_OUT") or ""
  if prefix ~= "" then
    out = io.open(prefix .. "." .. tostring(tid or 0), "a")
    if out then out:setvbuf("line") end
  end
  t_first = bench.now_us()
end

-- The dossier code has the shape <agency>-YYMMDD-NNNN; other "code" keys (the
-- procedure's) do not, so the first match is the dossier's.
local CODE = '"code"%s*:%s*"([^"]*%-%d%d%d%d%d%d%-%d%d%d%d)"'
local SECRET = '"tracking_secret"%s*:%s*"([^"]+)"'

function response(status, headers, body)
  if status == 201 then
    created = created + 1
    t_last = bench.now_us()
    if out then
      local code = string.match(body, CODE)
      local secret = string.match(body, SECRET)
      if code and secret then out:write(code, "\t", secret, "\n") end
    end
  else
    counts[status] = (counts[status] or 0) + 1
    local parts = {}
    for s, n in pairs(counts) do parts[#parts + 1] = s .. "x" .. n end
    others = table.concat(parts, " ")
    if status == 409 and capped == 0 then
      capped = 1
      wrk.thread:stop()
    end
  end
end

function bench.done_extra(threads, summary)
  local total, first, last, ncapped, counts = 0, nil, 0, 0, {}
  for _, t in ipairs(threads) do
    total = total + (t:get("created") or 0)
    local f, l = t:get("t_first") or 0, t:get("t_last") or 0
    if f > 0 and (first == nil or f < first) then first = f end
    if l > last then last = l end
    ncapped = ncapped + (t:get("capped") or 0)
    for status, n in string.gmatch(t:get("others") or "", "(%d+)x(%d+)") do
      counts[status] = (counts[status] or 0) + tonumber(n)
    end
  end
  local other = {}
  for status, n in pairs(counts) do other[#other + 1] = status .. "x" .. n end
  table.sort(other)
  local window = 0
  if first and last > first then window = (last - first) / 1000000 end
  local rate = 0
  if window > 0 then rate = total / window end
  return string.format(',"created":%d,"created_window_s":%.3f,"created_per_s":%.1f,"capped_threads":%d,"other_statuses":"%s"',
    total, window, rate, ncapped, table.concat(other, " "))
end
