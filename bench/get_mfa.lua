-- Step 2: GetUserPoolMfaConfig on one pool, the same request every time.
-- Env: BENCH_POOL_ID (the pool to read). Run: wrk ... -s bench/get_mfa.lua http://HOST:PORT/
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local pool = os.getenv("BENCH_POOL_ID")
assert(pool and pool ~= "", "set BENCH_POOL_ID")

wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "AWSCognitoIdentityProviderService.GetUserPoolMfaConfig"
wrk.body = string.format('{"UserPoolId":"%s"}', pool)
