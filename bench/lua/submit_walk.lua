-- wrk script: POST one after-sales application per order, walking through order ids so that
-- no order is hit twice (claims are limited per line).
-- Built on the shared harness /work/shared/bench/lua/common.lua (status counting, JSON result),
-- which run.sh passes in BENCH_LUA_COMMON; modelled on its post_json.lua.
--   BENCH_THREADS   the -t given to wrk (thread k sends orders k, k+T, k+2T, ...)
--   BENCH_ORDER_FMT order id format, default "B%010d"
--   BENCH_ORDERS    number of orders available (the script errors out past it)
--   + BENCH_AUTH / BENCH_EXPECT / BENCH_OUT / BENCH_LABEL (common.lua)
dofile(assert(os.getenv("BENCH_LUA_COMMON"), "BENCH_LUA_COMMON not set"))

local stride = tonumber(bench_env("BENCH_THREADS", "1"))
local fmt = bench_env("BENCH_ORDER_FMT", "B%010d")
local limit = tonumber(bench_env("BENCH_ORDERS", "1000000000"))
local headers = bench_headers()
headers["Content-Type"] = "application/json"
local n = 0

local my_threads = {}
local common_setup = setup
setup = function(thread)
   common_setup(thread)
   table.insert(my_threads, thread)
end

request = function()
   local idx = (tid or 0) + n * stride
   n = n + 1
   if idx >= limit then error("ran out of orders at index " .. idx) end
   local body = string.format(
      '{"order_id":"' .. fmt .. '","line":0,"type":"return","reason":"no_reason","quantity":1}', idx)
   return wrk.format("POST", nil, headers, body)
end

-- Remember the order id of every 201 answer, so that run.sh can check that each of them is in
-- the database (nothing lost). Requests still in flight when wrk stops are answered to nobody:
-- their rows exist without a counted 201 (at most one per connection).
ok_orders = {}
local common_response = response
response = function(status, headers, body)
   common_response(status, headers, body)
   if status == 201 then
      local id = string.match(body, '"order_id"%s*:%s*"([^"]+)"')
      if id then ok_orders[#ok_orders + 1] = id end
   end
end

local common_done = done
done = function(summary, latency, requests)
   common_done(summary, latency, requests)
   local path = bench_env("BENCH_OK_IDS", nil)
   if path then
      local f = assert(io.open(path, "w"))
      for _, t in ipairs(my_threads) do
         for _, id in ipairs(t:get("ok_orders") or {}) do f:write(id, "\n") end
      end
      f:close()
   end
end
