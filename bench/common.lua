-- Shared by the bench/*.lua wrk scripts (loaded with dofile). Defines wrk's `setup` and `done`
-- hooks: every thread gets a 0-based `tid`, and `done` prints one machine-readable line that
-- bench/run.sh parses:
--   BENCH_RESULT requests=N duration_us=N non2xx=N connect=N read=N write=N timeout=N
--                p50_us=N p90_us=N p99_us=N max_us=N
-- plus, when a script keeps a per-thread `tally` table (status/error type -> count):
--   BENCH_STATUS <key>=N ...

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH_RESULT requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d"
         .. " p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))

   local total, any = {}, false
   for _, t in ipairs(threads) do
      local tally = t:get("tally")
      if type(tally) == "table" then
         for k, v in pairs(tally) do
            total[k] = (total[k] or 0) + v
            any = true
         end
      end
   end
   if any then
      local keys = {}
      for k in pairs(total) do keys[#keys + 1] = k end
      table.sort(keys)
      local parts = {}
      for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. total[k] end
      io.write("BENCH_STATUS " .. table.concat(parts, " ") .. "\n")
   end
end

-- Directory of the calling script, so the scripts work from any cwd.
function bench_dir()
   local src = debug.getinfo(2, "S").source
   return src:match("^@(.*/)") or "./"
end
