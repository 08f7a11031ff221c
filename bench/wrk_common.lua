-- What every wrk script of the benchmark shares: threads numbered in setup, answers counted
-- by status in response, and done printing `statuses: 201=… 429=…` and the latency line that
-- scripts/bench reads. Each script loads this file first, then defines init and request.
local threads = {}
local next_id = 0

function setup(thread)
    thread:set("thread_id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
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
    io.write(string.format("latency_ms: p50=%.2f p99=%.2f\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

-- What the scripts that POST messages as the bench API key share (ingest.lua, batch.lua): the
-- key and the number offset from the arguments after --, and the request's headers; the
-- numbers, +1555 and 7 digits, come from message_number (thread, then a counter).
TEXT = "Benchmark message: your code is 482913. It expires in 10 minutes. Do not share it with anyone; we never ask for it by phone or e-mail. Thank you"

function init_posting(args, script)
    key = args[1] or error(script .. ": pass the API key after --")
    offset = tonumber(args[2] or "0")
    counter = 0
    statuses = {}
    headers = {
        ["Authorization"] = "Bearer " .. key,
        ["Content-Type"] = "application/json",
    }
end

-- The next message of this thread: its number and a body of 20 to 144 characters of TEXT.
function next_message()
    counter = counter + 1
    local number = string.format("+1555%07d", (offset + thread_id * 1000000 + counter) % 10000000)
    return '{"to_number":"' .. number .. '","message":"' .. string.sub(TEXT, 1, 20 + (counter * 7) % 125) .. '"}'
end
