-- wrk script: the assistant's API under load. Each request is one shopper message
-- (POST /api/v1/bot/messages). A thread's connections are BENCH_SLOTS shoppers: request n of the
-- thread is shopper n % BENCH_SLOTS's next message, so a shopper sends a message about once per
-- round of the thread's connections -- after the answer to the last one, as a person in a chat
-- does -- and walks through the message mix (each shopper from another point of it), starting
-- a new conversation (session_id) every 10 messages, so sessions are created and continued.
-- (wrk does not tell the script which connection asks; with every connection busy, request n
-- and n + BENCH_SLOTS are one round of answers apart.)
-- Built on the shared harness's common.lua (status counting, latency, JSON result), which
-- run.sh passes in BENCH_LUA_COMMON.
--   BENCH_MESSAGES   file with one message per line (setup_data.py prepare writes it)
--   BENCH_SLOTS      shoppers per wrk thread: the thread's connections (run.sh: conns / threads)
--   + BENCH_AUTH / BENCH_EXPECT / BENCH_OUT / BENCH_LABEL (common.lua)
dofile(assert(os.getenv("BENCH_LUA_COMMON"), "BENCH_LUA_COMMON not set"))

local messages = {}
local raw = bench_read_file(assert(os.getenv("BENCH_MESSAGES"), "BENCH_MESSAGES not set"))
for line in string.gmatch(raw, "[^\n]+") do
   table.insert(messages, line)
end
local headers = bench_headers()
headers["Content-Type"] = "application/json"
local slots = tonumber(os.getenv("BENCH_SLOTS") or "16")
local n = 0
local run = tostring(os.time())

request = function()
   local shopper = n % slots
   local k = math.floor(n / slots)            -- this shopper's k-th message
   local text = messages[((k + shopper) % #messages) + 1]
   local session = "wrk-" .. run .. "-" .. tostring(tid or 0) .. "-" .. tostring(shopper) .. "-"
      .. tostring(math.floor(k / 10))
   n = n + 1
   local body = '{"session_id":"' .. session .. '","text":"' .. text .. '"}'
   return wrk.format("POST", nil, headers, body)
end
