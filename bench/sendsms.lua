-- wrk script for the peer's ingest figure: Kannel's sendsms, GET /cgi-bin/sendsms with the
-- bench sendsms-user, a distinct number per request (+1557 and 7 digits: thread, then a
-- counter) and the bodies bench/ingest.lua sends (20 to 144 characters of one text).
-- usage: wrk ... -s bench/sendsms.lua http://127.0.0.1:SENDSMS_PORT -- USERNAME PASSWORD [NUMBER_OFFSET]
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "wrk_common.lua")
local TEXT = "Benchmark message: your code is 482913. It expires in 10 minutes. Do not share it with anyone; we never ask for it by phone or e-mail. Thank you"

function init(args)
    username = args[1] or error("sendsms.lua: pass the sendsms username and password after --")
    password = args[2] or error("sendsms.lua: pass the sendsms password")
    offset = tonumber(args[3] or "0")
    counter = 0
    statuses = {}
    -- URL-encoded once: the 125 lengths bench/ingest.lua uses.
    texts = {}
    for length = 20, 144 do
        local text = string.sub(TEXT, 1, length)
        text = string.gsub(text, "[^%w%-%.]", function(c) return c == " " and "+" or string.format("%%%02X", string.byte(c)) end)
        table.insert(texts, text)
    end
end

function request()
    counter = counter + 1
    local number = string.format("%%2B1557%07d", (offset + thread_id * 1000000 + counter) % 10000000)
    return wrk.format("GET", "/cgi-bin/sendsms?username=" .. username .. "&password=" .. password
        .. "&to=" .. number .. "&text=" .. texts[(counter * 7) % 125 + 1])
end

