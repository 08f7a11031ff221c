-- wrk script for the provider ceiling: POST /send to a mock provider with the body the sender
-- sends (to_number, message, a signed-looking callback_url) and a distinct Idempotency-Key.
-- usage: wrk ... -s bench/provider.lua http://127.0.0.1:PORT -- CALLBACK_BASE TAG
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "wrk_common.lua")

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

