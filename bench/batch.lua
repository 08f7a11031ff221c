-- wrk script for the batch ingest figure: POST /messages/batch, BATCH messages a request
-- (100 by default), with the bench API key.
-- usage: wrk ... -s bench/batch.lua URL -- API_KEY [NUMBER_OFFSET] [BATCH]
-- Numbers and bodies vary as bench/ingest.lua's do (each message another number, 20 to 144
-- characters of the same GSM-7 text). An answer is counted `200` only when every message of
-- the batch was accepted (`"refused":0`); else `200-refusals`, which the bench reports.
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "wrk_common.lua")

function init(args)
    init_posting(args, "batch.lua")
    size = tonumber(args[3] or "100")
end

function request()
    local parts = {}
    for i = 1, size do
        parts[i] = next_message()
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
