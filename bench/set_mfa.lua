-- Step 3: SetUserPoolMfaConfig (a durable SQLite write) spread over many pools.
-- Env: BENCH_POOL_IDS (pool ids, comma or space separated), BENCH_WRK_THREADS (wrk's -t).
-- Run: wrk ... -s bench/set_mfa.lua http://HOST:PORT/
--
-- The pools are split between wrk threads (pool i belongs to thread i % threads) so two threads
-- never write the same pool, and each thread rotates through its own pools with a counter, so
-- its connections' in-flight requests hit different pools. Two requests can still meet on one
-- pool when a response is slow; the server then answers 400 ConcurrentModificationException,
-- which is correct behaviour. `response` tallies every status (and the error __type of non-2xx
-- answers) so run.sh can report what the failures were.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local all = {}
for id in (os.getenv("BENCH_POOL_IDS") or ""):gmatch("[^,%s]+") do all[#all + 1] = id end
assert(#all > 0, "set BENCH_POOL_IDS")
local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "1") or 1

local headers = {
   ["Content-Type"] = "application/x-amz-json-1.1",
   ["X-Amz-Target"] = "AWSCognitoIdentityProviderService.SetUserPoolMfaConfig",
}
local reqs = {}
local counter = 0
tally = {}

function init(args)
   local me = tid or 0
   local mine = {}
   for i, id in ipairs(all) do
      if (i - 1) % nthreads == me then mine[#mine + 1] = id end
   end
   if #mine == 0 then mine = all end -- more threads than pools: share them
   for i, id in ipairs(mine) do
      local body = string.format(
         '{"UserPoolId":"%s","MfaConfiguration":"ON","SoftwareTokenMfaConfiguration":{"Enabled":true}}', id)
      reqs[i] = wrk.format("POST", "/", headers, body)
   end
   -- Threads start at different points of their lists; not needed for correctness.
   counter = me
end

function request()
   counter = counter + 1
   return reqs[counter % #reqs + 1]
end

function response(status, headers, body)
   local key = tostring(status)
   if status >= 300 then
      local t = body and body:match('"__type"%s*:%s*"([^"]*)"')
      if t then key = key .. ":" .. (t:match("#(.*)$") or t) end
   end
   tally[key] = (tally[key] or 0) + 1
end
