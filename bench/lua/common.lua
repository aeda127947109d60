-- Shared by every wrk script of bench/run.sh: thread numbering, URL encoding, a clock,
-- and the done() hook that prints one machine-readable line:
--   BENCH_RESULT {"requests":…,"rps":…,"ok_rps":…,"p50_ms":…,"p99_ms":…,…}
-- run.sh parses that line, not wrk's human-readable report (which it keeps in its logs).

bench = bench or {}

-- setup() runs in wrk's main Lua state, once per thread, before any request: number the
-- threads (the number lands in each thread's state as the global `tid`) and keep them so
-- done() can read per-thread globals back.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function bench.urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- Monotonic clock in microseconds (LuaJIT's FFI; wrk is built on LuaJIT).
local ok, ffi = pcall(require, "ffi")
if ok then
  pcall(ffi.cdef, [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk_id, bench_timespec *tp);
  ]])
  local ts = ffi.new("bench_timespec")
  function bench.now_us()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
  end
else
  function bench.now_us()
    return os.time() * 1000000
  end
end

-- wrk counts a status above 399 as an error (errors.status); ok_rps leaves those out.
function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1000000
  local p = function(q) return latency:percentile(q) / 1000 end
  local extra = ""
  if bench.done_extra then
    extra = bench.done_extra(threads, summary)
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,"ok_rps":%.1f,'
      .. '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,'
      .. '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d%s}\n',
    summary.requests, seconds, summary.requests / seconds,
    (summary.requests - e.status) / seconds,
    p(50), p(90), p(99), latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, extra))
end
