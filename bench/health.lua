-- Step 1, the fixed-JSON baseline: GET /_cognito-mfa/health (no body, no storage).
-- Run: wrk ... -s bench/health.lua http://HOST:PORT/_cognito-mfa/health
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.method = "GET"
