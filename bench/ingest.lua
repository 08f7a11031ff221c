-- wrk script for the ingest figure: POST /messages with a JSON body and the bench API key.
-- usage: wrk ... -s bench/ingest.lua URL -- API_KEY [NUMBER_OFFSET]
-- Each request uses another phone number (+1555 and 7 digits: thread, then a counter) and
-- a body of another length (20 to 144 characters of the same GSM-7 text, one segment);
-- bench/sendsms.lua and bench/pgbench_*.sql vary theirs the same way.
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "wrk_common.lua")
local TEXT = "Benchmark message: your code is 482913. It expires in 10 minutes. Do not share it with anyone; we never ask for it by phone or e-mail. Thank you"

function init(args)
    key = args[1] or error("ingest.lua: pass the API key after --")
    offset = tonumber(args[2] or "0")
    counter = 0
    statuses = {}
    headers = {
        ["Authorization"] = "Bearer " .. key,
        ["Content-Type"] = "application/json",
    }
end

function request()
    counter = counter + 1
    local number = string.format("+1555%07d", (offset + thread_id * 1000000 + counter) % 10000000)
    local text = string.sub(TEXT, 1, 20 + (counter * 7) % 125)
    local body = '{"to_number":"' .. number .. '","message":"' .. text .. '"}'
    return wrk.format("POST", "/messages", headers, body)
end

