-- wrk script for the reads figure: GET PREFIX/{id} with the bench API key, cycling through
-- the public ids in IDS_FILE (one a line), each thread from its own offset.
-- usage: wrk ... -s bench/read.lua URL -- API_KEY IDS_FILE PREFIX
--   PREFIX /messages for the service; the trivial FastCGI responder's location for its ceiling.
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./") .. "wrk_common.lua")

function init(args)
    local key = args[1] or error("read.lua: pass the API key, the ids file and the path prefix after --")
    local file = args[2] or error("read.lua: pass the ids file")
    prefix = args[3] or "/messages"
    ids = {}
    for line in io.lines(file) do
        if #line > 0 then table.insert(ids, line) end
    end
    if #ids == 0 then error("read.lua: no ids in " .. file) end
    counter = thread_id * 7919
    statuses = {}
    headers = { ["Authorization"] = "Bearer " .. key }
end

function request()
    counter = counter + 1
    return wrk.format("GET", prefix .. "/" .. ids[(counter % #ids) + 1], headers)
end

