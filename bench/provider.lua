-- wrk script for the provider ceiling: POST /send to a mock provider with the body the sender
-- sends (to_number, message, a signed-looking callback_url) and a distinct Idempotency-Key.
-- usage: wrk ... -s bench/provider.lua http://127.0.0.1:PORT -- CALLBACK_BASE TAG
local threads = {}
local next_id = 0

function setup(thread)
    thread:set("thread_id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

function init(args)
    callback_base = args[1] or "http://127.0.0.1:8080"
    tag = args[2] or "0"
    counter = 0
    statuses = {}
end

function request()
    counter = counter + 1
    -- Shaped like a UUID (36 characters), distinct per request.
    local key = string.format("00000000-%04d-4000-8%03d-%012d", tonumber(tag) % 10000, thread_id % 1000, counter)
    local body = '{"callback_url":"' .. callback_base
        .. '/messages/delivery_status?mid=' .. key
        .. '&ts=1764430000&sig=0f3c8a1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",'
        .. '"message":"Benchmark message","to_number":"+15550000001"}'
    return wrk.format("POST", "/send", {
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = key,
    }, body)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local totals = {}
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do
            totals[status] = (totals[status] or 0) + count
        end
    end
    local parts = {}
    for status, count in pairs(totals) do
        table.insert(parts, status .. "=" .. count)
    end
    table.sort(parts)
    io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
