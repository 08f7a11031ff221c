-- wrk script for the batch ingest figure: POST /messages/batch, BATCH messages a request
-- (100 by default), with the bench API key.
-- usage: wrk ... -s bench/batch.lua URL -- API_KEY [NUMBER_OFFSET] [BATCH]
-- Numbers and bodies vary as bench/ingest.lua's do (each message another number, 20 to 144
-- characters of the same GSM-7 text). An answer is counted `200` only when every message of
-- the batch was accepted (`"refused":0`); else `200-refusals`, which the bench reports.
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "wrk_common.lua")
local TEXT = "Benchmark message: your code is 482913. It expires in 10 minutes. Do not share it with anyone; we never ask for it by phone or e-mail. Thank you"

function init(args)
    key = args[1] or error("batch.lua: pass the API key after --")
    offset = tonumber(args[2] or "0")
    size = tonumber(args[3] or "100")
    counter = 0
    statuses = {}
    headers = {
        ["Authorization"] = "Bearer " .. key,
        ["Content-Type"] = "application/json",
    }
end

function request()
    local parts = {}
    for i = 1, size do
        counter = counter + 1
        local number = string.format("+1555%07d", (offset + thread_id * 1000000 + counter) % 10000000)
        local text = string.sub(TEXT, 1, 20 + (counter * 7) % 125)
        parts[i] = '{"to_number":"' .. number .. '","message":"' .. text .. '"}'
    end
    return wrk.format("POST", "/messages/batch", headers, '{"messages":[' .. table.concat(parts, ",") .. ']}')
end

function response(status, headers, body)
    local key = status
    if status == 200 and not string.find(body, '"refused":0', 1, true) then
        key = "200-refusals"
    end
    statuses[key] = (statuses[key] or 0) + 1
end
