-- wrk script: agent traffic over many registrations. Reads "token agent_id" lines
-- from the file named by AGENTS_FILE; ROUTE picks heartbeat, poll, config, mix (the
-- agent's own ratio, as in rate_client.cc) or fixed (a single path, for the
-- baseline server). Each thread starts at a different offset.
local agents = {}
local route = os.getenv("ROUTE") or "heartbeat"
local next_index = 1
local calls = 0

-- One agent's default minute (protocol section 5): 4 command polls (15 s),
-- 2 heartbeats (30 s), 2 replica polls (30 s), 1 config read (60 s).
local mix = {"poll", "heartbeat", "poll", "replicas", "config", "poll", "heartbeat", "poll",
             "replicas"}

function setup(thread)
  thread:set("offset", math.random(1, 1000000))
end

function init(args)
  for line in io.lines(os.getenv("AGENTS_FILE")) do
    local token, id = line:match("^(%S+) (%S+)$")
    agents[#agents + 1] = {token = token, id = id}
  end
  next_index = (offset or 1) % #agents + 1
end

function request()
  local a = agents[next_index]
  next_index = next_index % #agents + 1
  local call = route
  if route == "mix" then
    call = mix[calls % #mix + 1]
    calls = calls + 1
  end
  local headers = {["Authorization"] = "Bearer " .. a.token,
                   ["Content-Type"] = "application/json"}
  local base = "/api/agents/" .. a.id
  if call == "heartbeat" or call == "fixed" then
    return wrk.format("POST", base .. "/heartbeat", headers, '{"status":"online"}')
  elseif call == "config" then
    return wrk.format("GET", base .. "/config", headers)
  elseif call == "replicas" then
    return wrk.format("GET", base .. "/replicas?status=launching", headers)
  end
  return wrk.format("GET", base .. "/pending-commands", headers)
end

function response(status, headers, body)
  if status ~= 200 then
    errors = (errors or 0) + 1
  end
end
