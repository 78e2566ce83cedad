-- wrk script: agent traffic over many registrations. Reads "token agent_id" lines
-- from the file named by AGENTS_FILE; ROUTE picks heartbeat, poll or fixed (a
-- single path, for the baseline server). Each thread starts at a different offset.
local agents = {}
local route = os.getenv("ROUTE") or "heartbeat"
local next_index = 1

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
  local headers = {["Authorization"] = "Bearer " .. a.token,
                   ["Content-Type"] = "application/json"}
  if route == "heartbeat" or route == "fixed" then
    return wrk.format("POST", "/api/agents/" .. a.id .. "/heartbeat", headers,
                      '{"status":"online"}')
  end
  return wrk.format("GET", "/api/agents/" .. a.id .. "/pending-commands", headers)
end

function response(status, headers, body)
  if status ~= 200 then
    errors = (errors or 0) + 1
  end
end
