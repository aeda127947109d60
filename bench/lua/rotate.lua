-- GET requests rotating over a fixed list of diacritic-free Vietnamese queries.
--   BENCH_PATH_PREFIX  the path before the query, e.g. "/api/v1/procedures?q=" (W3) or
--                      "/?q=" (the HTTP floor, whose handler ignores it: same wrk work).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

-- The issue's examples first; the demo province (a provincial centre) has no procedure
-- matching "dat dai", which stays in as a search that finds nothing. With the API's default
-- page size (20), the others return 1 to 20 procedures each (195 match "cap lai").
local queries = {
  "giay phep xay dung", "ly lich tu phap", "dang ky kinh doanh", "ho tich", "dat dai",
  "karaoke", "cong chung", "quyen su dung dat", "moi truong", "giay phep lai xe",
  "dau tu", "hanh nghe duoc", "an toan thuc pham", "xay dung", "y te", "giao duc",
  "khoang san", "du lich", "cap lai", "dang ky doanh nghiep",
}

local reqs = {}
local i = 0

function init(args)
  local prefix = os.getenv("BENCH_PATH_PREFIX") or "/?q="
  for _, q in ipairs(queries) do
    reqs[#reqs + 1] = wrk.format("GET", prefix .. bench.urlencode(q))
  end
  i = ((tid or 1) - 1) * 7
end

function request()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end
