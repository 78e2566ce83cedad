-- wrk script: agent traffic over many registrations. Reads "token agent_id" lines
-- from the file named by AGENTS_FILE; ROUTE picks heartbeat, poll, config, pricing,
-- mix (the agent's own ratio, as in rate_client.cc) or fixed (a single path, for the
-- baseline server). Each thread starts at a different offset.
local agents = {}
local route = os.getenv("ROUTE") or "heartbeat"
local next_index = 1
local calls = 0

-- One agent's default minute (protocol section 5): 4 command polls (15 s),
-- 2 heartbeats (30 s), 2 replica polls (30 s), 1 config read (60 s); every fifth
-- minute also a pricing report (300 s).
local minute = {"poll", "heartbeat", "poll", "replicas", "config", "poll", "heartbeat", "poll",
                "replicas"}
local mix = {}
for _ = 1, 5 do
  for _, call in ipairs(minute) do mix[#mix + 1] = call end
end
mix[#mix + 1] = "pricing"

-- What agent v4 sends (protocol section 5.6) from the benchmark fleet's pool:
-- three AZs of its type and the on-demand price, observed when the thread starts.
local pricing_body

function setup(thread)
  thread:set("offset", math.random(1, 1000000))
end

function init(args)
  for line in io.lines(os.getenv("AGENTS_FILE")) do
    local token, id = line:match("^(%S+) (%S+)$")
    agents[#agents + 1] = {token = token, id = id}
  end
  next_index = (offset or 1) % #agents + 1
  pricing_body = '{"instance":{"instance_id":"i-0a1b2c3d4e5f67890","instance_type":"m5.large",'
    .. '"region":"us-east-1","az":"us-east-1a","mode":"spot","pool_id":"m5.large.us-east-1a"},'
    .. '"pricing":{"on_demand_price":0.096,"current_spot_price":0.0389,'
    .. '"cheapest_pool":{"pool_id":"m5.large.us-east-1c","price":0.0342},"spot_pools":['
    .. '{"pool_id":"m5.large.us-east-1a","instance_type":"m5.large","az":"us-east-1a","price":0.0389},'
    .. '{"pool_id":"m5.large.us-east-1b","instance_type":"m5.large","az":"us-east-1b","price":0.0411},'
    .. '{"pool_id":"m5.large.us-east-1c","instance_type":"m5.large","az":"us-east-1c","price":0.0342}],'
    .. '"collected_at":"' .. os.date("!%Y-%m-%dT%H:%M:%S") .. '.000000+00:00"}}'
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
  elseif call == "pricing" then
    return wrk.format("POST", base .. "/pricing-report", headers, pricing_body)
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
