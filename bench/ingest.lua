-- wrk script for the ingest figure: POST /messages with a JSON body and the bench API key.
-- usage: wrk ... -s bench/ingest.lua URL -- API_KEY [NUMBER_OFFSET]
-- Each request uses another phone number (+1555 and 7 digits: thread, then a counter) and
-- a body of another length (20 to 144 characters of the same GSM-7 text, one segment);
-- bench/sendsms.lua and bench/pgbench_*.sql vary theirs the same way.
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "wrk_common.lua")

function init(args)
    init_posting(args, "ingest.lua")
end

function request()
    return wrk.format("POST", "/messages", headers, next_message())
end
