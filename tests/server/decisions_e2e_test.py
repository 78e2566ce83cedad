"""End to end: spotopt-server decides on its own. An agent reports prices; when a
pool gets much cheaper, the server's fleet run (--decide-every 1) queues a switch
that the agent's next poll receives, and the agent carries it out. The operator
reads the decision log and the engines, previews a decision, activates the committed
model (--model) and rolls back, over the management API.

Usage: python3 decisions_e2e_test.py PATH/TO/spotopt-server
"""
import os
import time
from datetime import datetime, timezone

import requests

from common import Server, bearer, find_binary

INSTANCE, SUCCESSOR = "i-0123456789abcdef0", "i-0123456789abcdef1"
MODEL = os.path.join(os.path.dirname(__file__), "..", "..", "models", "price-24h",
                     "manifest.json")


def expect(response, status):
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: "
        f"{response.status_code} {response.text}")
    return response.json()


def pricing(s, base, h, agent_id, prices):
    body = {"instance": {"instance_type": "m5.large", "region": "us-east-1"},
            "pricing": {"on_demand_price": 0.096, "current_spot_price": 0.04,
                        "collected_at": datetime.now(timezone.utc).isoformat(),
                        "spot_pools": [{"pool_id": f"m5.large.{az}", "price": price}
                                       for az, price in prices.items()]}}
    expect(s.post(f"{base}/api/agents/{agent_id}/pricing-report", json=body, headers=h), 200)


def poll_until_command(s, base, h, agent_id, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        commands = expect(s.get(f"{base}/api/agents/{agent_id}/pending-commands", headers=h), 200)
        if commands:
            return commands[0]
        time.sleep(0.25)
    raise AssertionError("no command arrived")


def main():
    server = Server(find_binary(), extra_args=["--decide-every", "1", "--model", MODEL])
    try:
        run(server)
    finally:
        server.kill()
    print("decisions e2e ok")


def run(server):
    token = server.cli("tenant", "create", "acme")
    operator = server.cli("operator-token")
    server.start()
    s, base, h = requests.Session(), server.base, bearer(token)
    op = {"Authorization": f"Bearer {operator}"}
    admin = f"{base}/api/admin"

    reg = expect(s.post(f"{base}/api/agents/register", headers=h, json={
        "instance_id": INSTANCE, "region": "us-east-1", "logical_agent_id": "web",
        "instance_type": "m5.large", "az": "us-east-1a", "mode": "spot"}), 201)
    agent_id = reg["agent_id"]
    tenant = expect(s.get(f"{admin}/tenants", headers=op), 200)["tenants"][0]["id"]
    logical = expect(s.get(f"{admin}/tenants/{tenant}/agents", headers=op), 200)["agents"][0]["id"]
    # A fresh agent would wait two hours in its pool first.
    expect(s.put(f"{admin}/tenants/{tenant}/agents/{logical}/config", headers=op,
                 json={"min_pool_duration_hours": 0}), 200)

    # The engines: the built-in two and the model from --model.
    engines = {e["name"]: e for e in expect(s.get(f"{admin}/engines", headers=op), 200)["engines"]}
    assert set(engines) == {"rules", "scoring", "model"}, engines
    assert engines["model"]["kind"] == "model"

    # Similar prices: the server decides to stay, and logs it once.
    pricing(s, base, h, agent_id, {"us-east-1a": 0.04, "us-east-1c": 0.041})
    time.sleep(2.5)
    assert expect(s.get(f"{base}/api/agents/{agent_id}/pending-commands", headers=h), 200) == []
    log = expect(s.get(f"{admin}/tenants/{tenant}/agents/{logical}/decisions", headers=op), 200)
    assert log["total"] == 1 and log["decisions"][0]["decision"]["action"] == "stay", log

    # The model previews a decision; a rollback restores the rules.
    active = expect(s.post(f"{admin}/tenants/{tenant}/engine/activate", headers=op,
                           json={"name": "model", "version": engines["model"]["version"]}), 200)
    assert active["active"]["name"] == "model" and active["previous"]["name"] == "rules"
    preview = expect(s.get(f"{admin}/tenants/{tenant}/agents/{logical}/decide", headers=op), 200)
    assert preview["decision"]["engine"] == "model" and preview["fallback"] is None, preview
    assert preview["input"]["market"]["pools"][0]["history"] is not None
    back = expect(s.post(f"{admin}/tenants/{tenant}/engine/rollback", headers=op), 200)
    assert back["active"]["name"] == "rules"

    # Pool 1b shows up at half the price (a pool's first price in its 5-minute bucket;
    # a later one in the same bucket would lose to the earlier): within a run or two
    # the agent's poll gets the switch.
    pricing(s, base, h, agent_id, {"us-east-1b": 0.02})
    command = poll_until_command(s, base, h, agent_id, 10)
    assert command["command_type"] == "switch"
    assert command["target_pool_id"] == "m5.large.us-east-1b", command
    assert command["priority"] == 25
    log = expect(s.get(f"{admin}/tenants/{tenant}/decisions", headers=op), 200)["decisions"]
    acted = [d for d in log if d["acted"]]
    assert acted and acted[0]["command_id"] == command["id"], log
    assert acted[0]["decision"]["reason"] == "cheaper_pool"

    # The agent switches: the successor registers, and the command succeeds.
    expect(s.post(f"{base}/api/agents/register", headers=h, json={
        "instance_id": SUCCESSOR, "region": "us-east-1", "logical_agent_id": "web",
        "instance_type": "m5.large", "az": "us-east-1b", "mode": "spot"}), 201)
    commands = expect(s.get(f"{admin}/tenants/{tenant}/agents/{logical}/commands", headers=op), 200)
    assert commands["commands"][0]["state"] == "succeeded", commands
    agent = expect(s.get(f"{admin}/tenants/{tenant}/agents/{logical}", headers=op), 200)
    assert agent["placement"]["az"] == "us-east-1b"

    code, _ = server.stop()
    assert code == 0


if __name__ == "__main__":
    main()
