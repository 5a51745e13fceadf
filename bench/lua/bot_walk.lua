-- wrk script: the assistant's API under load. Each request is one shopper message
-- (POST /api/v1/bot/messages); every connection walks through the message mix, starting a new
-- conversation (session_id) every 10 messages, so sessions are created and continued.
-- Built on the shared harness's common.lua (status counting, latency, JSON result), which
-- run.sh passes in BENCH_LUA_COMMON.
--   BENCH_MESSAGES   file with one message per line (setup_data.py prepare writes it)
--   + BENCH_AUTH / BENCH_EXPECT / BENCH_OUT / BENCH_LABEL (common.lua)
dofile(assert(os.getenv("BENCH_LUA_COMMON"), "BENCH_LUA_COMMON not set"))

local messages = {}
local raw = bench_read_file(assert(os.getenv("BENCH_MESSAGES"), "BENCH_MESSAGES not set"))
for line in string.gmatch(raw, "[^\n]+") do
   table.insert(messages, line)
end
local headers = bench_headers()
headers["Content-Type"] = "application/json"
local n = 0
local run = tostring(os.time())

request = function()
   local text = messages[(n % #messages) + 1]
   local session = "wrk-" .. run .. "-" .. tostring(tid or 0) .. "-" .. tostring(math.floor(n / 10))
   n = n + 1
   local body = '{"session_id":"' .. session .. '","text":"' .. text .. '"}'
   return wrk.format("POST", nil, headers, body)
end
