"""End to end: a real host driven the way the deployed agent and an operator drive
it, across a restart, ending with SIGTERM. The agent's side is the same for every
host; the operator works through spotopt-server's management API, or through the
Python binding on the Python host's database (operators.py).

Usage: python3 e2e_test.py PATH/TO/spotopt-server
       python3 e2e_test.py --python-host PATH/TO/spotopt_host.py   (binding importable)
"""
import json
import sys
import time
from datetime import datetime, timedelta, timezone

import requests

from common import PythonHost, Server, bearer, find_binary
from operators import AdminApiOperator, BindingOperator, refused

INSTANCE = "i-0123456789abcdef0"
REPLICA_INSTANCE = "i-0fedcba9876543210"
# A second workload, through a switch, a rebalance and a termination notice.
PAY_OLD, PAY_NEW, PAY_STANDBY = "i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2", "i-0aaaaaaaaaaaaaaa3"


def iso(t):
    return t.isoformat()


def expect(response, status):
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: "
        f"{response.status_code} {response.text}")
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    return response.json()


def expect_within(seconds, request, status):
    """`request()` answers `status` within `seconds`: for tenant changes made in
    another process, which the host's cached token answers see a little later."""
    deadline = time.monotonic() + seconds
    while True:
        r = request()
        if r.status_code == status or time.monotonic() > deadline:
            return expect(r, status)
        time.sleep(0.2)


def main():
    python_host = len(sys.argv) == 3 and sys.argv[1] == "--python-host"
    server = PythonHost(sys.argv[2]) if python_host else Server(find_binary())
    try:
        run(server, admin_api=not python_host)
    finally:
        server.kill()
    print("e2e ok")


def run(server, admin_api):
    token = server.cli("tenant", "create", "acme")
    assert token.startswith("sot_")
    s = requests.Session()  # keep-alive, as the agent does
    if admin_api:
        operator = server.cli("operator-token")
        assert operator.startswith("sot_")
        op = AdminApiOperator(s, server.base, operator)
    else:
        op = BindingOperator(server.db)
    server.start()
    base, agent_h = server.base, bearer(token)

    # The agent: register (its token both in the header and in the body), heartbeat,
    # config, an empty command poll.
    body = {"client_token": token, "instance_id": INSTANCE, "region": "us-east-1",
            "logical_agent_id": "checkout-api", "instance_type": "m5.large",
            "az": "us-east-1a", "mode": "spot", "hostname": "ip-10-0-0-1",
            "agent_version": "4.0.0"}
    reg = expect(s.post(f"{base}/api/agents/register", json=body, headers=agent_h), 201)
    agent_id = reg["agent_id"]
    assert reg["role"] == "primary"
    hb = expect(s.post(f"{base}/api/agents/{agent_id}/heartbeat",
                       json={"status": "online", "instance_id": INSTANCE}, headers=agent_h), 200)
    assert hb["success"] is True
    config = expect(s.get(f"{base}/api/agents/{agent_id}/config", headers=agent_h), 200)
    assert config["enabled"] is True
    assert expect(s.get(f"{base}/api/agents/{agent_id}/pending-commands/", headers=agent_h),
                  200) == []
    # Errors the agent can meet: bad token, unknown registration, wrong method.
    expect(s.get(f"{base}/api/agents/{agent_id}/config", headers=bearer("sot_nope")), 401)
    expect(s.get(f"{base}/api/agents/00000000-0000-0000-0000-000000000000/config",
                 headers=agent_h), 404)
    r = s.delete(f"{base}/api/agents/{agent_id}/config", headers=agent_h)
    assert r.status_code == 405 and "GET" in r.headers["Allow"], r.text

    # Restart: registrations survive; the same instance gets the same agent_id.
    code, _ = server.stop()
    assert code == 0, code
    server.start()
    again = expect(s.post(f"{base}/api/agents/register", json=body, headers=agent_h), 200)
    assert again["agent_id"] == agent_id, (again, agent_id)

    # The operator finds the tenant and the logical agent.
    tenant_id = op.tenant_id("acme")
    if admin_api:
        expect(s.get(f"{base}/api/admin/tenants", headers=agent_h), 401)  # tenant token: no
    agents = op.agents(tenant_id)
    assert len(agents) == 1 and agents[0]["logical_agent_id"] == "checkout-api", agents
    assert agents[0]["liveness"] == "online"
    assert agents[0]["placement"]["instance_id"] == INSTANCE
    assert agents[0]["registrations"][0]["agent_id"] == agent_id
    agent = agents[0]["id"]

    # Config by the operator: exact (unknown keys refused), versioned.
    refused(400, lambda: op.put_config(tenant_id, agent, '{"no_such_key": 1}'))
    cfg = op.put_config(tenant_id, agent, '{"min_savings_percent": 25}', expected_version=1)
    assert cfg["min_savings_percent"] == 25 and cfg["config_version"] == 2, cfg
    refused(409, lambda: op.put_config(tenant_id, agent, '{"min_savings_percent": 20}',
                                       expected_version=1))
    seen = expect(s.get(f"{base}/api/agents/{agent_id}/config", headers=agent_h), 200)
    assert seen["config_version"] == 2

    # A forced switch: enqueued by the operator, delivered once, acknowledged.
    cmd = op.switch(tenant_id, agent, target_mode="spot", target_pool_id="m5.large.us-east-1b",
                    reason="e2e", override_limits=True)
    assert cmd["priority"] == 75 and cmd["state"] == "pending", cmd
    polled = expect(s.get(f"{base}/api/agents/{agent_id}/pending-commands", headers=agent_h), 200)
    assert [c["id"] for c in polled] == [cmd["id"]], polled
    assert expect(s.get(f"{base}/api/agents/{agent_id}/pending-commands", headers=agent_h),
                  200) == []
    ack = expect(s.post(f"{base}/api/agents/{agent_id}/commands/{cmd['id']}/executed",
                        json={"success": True, "message": "switched"}, headers=agent_h), 200)
    assert ack["state"] == "succeeded", ack
    commands = op.commands(tenant_id, agent)
    assert [(c["id"], c["state"]) for c in commands] == [(cmd["id"], "succeeded")], commands

    # A replica: requested by the operator, leased by the agent's replica poll,
    # launched, ready, promoted.
    replica = op.request_replica(tenant_id, agent)
    assert replica["state"] == "requested", replica
    work = expect(s.get(f"{base}/api/agents/{agent_id}/replicas?status=launching",
                        headers=agent_h), 200)
    assert [w["id"] for w in work["replicas"]] == [replica["id"]], work
    put = expect(s.put(f"{base}/api/agents/{agent_id}/replicas/{replica['id']}",
                       json={"instance_id": REPLICA_INSTANCE, "status": "syncing"},
                       headers=agent_h), 200)
    assert put["status"] == "syncing", put
    ready = expect(s.post(f"{base}/api/agents/{agent_id}/replicas/{replica['id']}/status",
                          json={"status": "ready",
                                "sync_completed_at": "2025-11-23T10:15:02.481930+00:00"},
                          headers=agent_h), 200)
    assert ready["status"] == "ready", ready
    promoted = op.promote(tenant_id, agent, replica["id"])
    assert promoted["state"] in ("promoting", "promoted"), promoted
    assert None not in [promoted["entered_at"][k] for k in ("requested", "syncing", "ready")]
    assert promoted["entered_at"]["failed"] is None, promoted
    view = op.agent(tenant_id, agent)
    assert view["placement"]["instance_id"] == REPLICA_INSTANCE, view["placement"]
    assert "placement_moved" in [e["kind"] for e in op.events(tenant_id, agent)]
    assert op.incidents(tenant_id, agent) == []

    interruption_flows(s, base, agent_h, op, tenant_id)

    # Tenant lifecycle: suspend locks the agent out with 403, reactivate lets it back.
    config_url = f"{base}/api/agents/{agent_id}/config"
    assert op.suspend(tenant_id)["state"] == "suspended"
    expect_within(op.settle_seconds, lambda: s.get(config_url, headers=agent_h), 403)
    assert op.reactivate(tenant_id)["state"] == "active"
    expect_within(op.settle_seconds, lambda: s.get(config_url, headers=agent_h), 200)

    if admin_api:
        # spotopt-server's metrics carry the route labels and the liveness gauge.
        metrics = s.get(f"{base}/metrics").text
        assert 'spotopt_http_requests_total{route="/api/agents/{id}/config",code="200"}' in metrics
        assert "spotopt_agents{liveness=" in metrics
        prices_and_savings(s, base, operator, tenant_id)
        dashboard_files(s, base)
    else:
        op.close()

    code, took = server.stop()
    assert code == 0, code
    assert took < 5, took


def interruption_flows(s, base, agent_h, op, tenant_id):
    """Prices, a switch completed by the successor's registration, a rebalance
    answered with a standby, and a termination notice that promotes it."""
    def register(instance, az):
        body = {"instance_id": instance, "region": "us-east-1", "logical_agent_id": "payments",
                "instance_type": "m5.large", "az": az, "mode": "spot",
                "ami_id": "ami-0c55b159cbfafe1f0", "public_ip": None, "private_ip": "unknown"}
        r = s.post(f"{base}/api/agents/register", json=body, headers=agent_h)
        assert r.status_code in (200, 201), r.text
        return r.json()

    old = register(PAY_OLD, "us-east-1a")
    old_id = old["agent_id"]
    now = datetime.now(timezone.utc)
    pools = [{"pool_id": f"m5.large.us-east-1{z}", "instance_type": "m5.large",
              "az": f"us-east-1{z}", "price": p} for z, p in (("a", 0.0389), ("b", 0.0411),
                                                              ("c", 0.0342))]
    report = {"instance": {"instance_id": PAY_OLD, "instance_type": "m5.large",
                           "region": "us-east-1", "az": "us-east-1a", "mode": "spot",
                           "pool_id": "m5.large.us-east-1a"},
              "pricing": {"on_demand_price": 0.096, "current_spot_price": 0.0389,
                          "spot_pools": pools, "collected_at": iso(now)}}
    priced = expect(s.post(f"{base}/api/agents/{old_id}/pricing-report", json=report,
                           headers=agent_h), 200)
    assert priced["accepted_observations"] == 4, priced

    # Switch to us-east-1c: the new instance's agent registers before any report.
    logical = next(a["id"] for a in op.agents(tenant_id) if a["logical_agent_id"] == "payments")
    cmd = op.switch(tenant_id, logical, target_mode="spot", target_pool_id="m5.large.us-east-1c",
                    override_limits=True)
    polled = expect(s.get(f"{base}/api/agents/{old_id}/pending-commands", headers=agent_h), 200)
    assert [c["id"] for c in polled] == [cmd["id"]], polled
    new = register(PAY_NEW, "us-east-1c")
    new_id = new["agent_id"]
    assert new["role"] == "primary" and new_id != old_id, new
    assert expect(s.get(f"{base}/api/agents/{old_id}/pending-commands", headers=agent_h),
                  200) == []
    report_body = {
        "old_instance": {"instance_id": PAY_OLD, "instance_type": "m5.large",
                         "region": "us-east-1", "az": "us-east-1a", "mode": "spot",
                         "pool_id": "m5.large.us-east-1a"},
        "new_instance": {"instance_id": PAY_NEW, "instance_type": "m5.large",
                         "region": "us-east-1", "az": "us-east-1c", "mode": "spot",
                         "pool_id": "m5.large.us-east-1c"},
        "snapshot": {"used": False},
        "prices": {"on_demand": 0.096, "old_spot": 0.0389, "new_spot": 0.0342},
        "timing": {"switch_initiated_at": iso(now), "new_instance_launched_at": iso(now),
                   "new_instance_ready_at": iso(now), "traffic_switched_at": iso(now)},
        "trigger": "manual"}
    expect(s.post(f"{base}/api/agents/{old_id}/switch-report", json=report_body,
                  headers=agent_h), 200)
    ack = expect(s.post(f"{base}/api/agents/{old_id}/commands/{cmd['id']}/executed",
                        json={"success": True, "message": "Switch completed"}, headers=agent_h),
                 200)
    assert ack["state"] == "succeeded", ack

    # A rebalance recommendation on the new primary: a standby in another AZ.
    signal = {"signal_type": "rebalance-recommendation", "instance_id": PAY_NEW}
    emergency = s.post(f"{base}/api/agents/{new_id}/create-emergency-replica", json=signal,
                       headers=agent_h)
    assert emergency.status_code == 201 and emergency.json()["success"] is True, emergency.text
    standby = emergency.json()
    assert standby["az"] != "us-east-1c", standby
    advice = expect(s.post(f"{base}/api/agents/{new_id}/rebalance-recommendation",
                           json={"instance_id": PAY_NEW, "detected_at": iso(now)},
                           headers=agent_h), 200)
    assert advice["action"] == "replica", advice
    work = expect(s.get(f"{base}/api/agents/{new_id}/replicas?status=launching",
                        headers=agent_h), 200)
    assert [w["id"] for w in work["replicas"]] == [standby["replica_id"]], work
    expect(s.put(f"{base}/api/agents/{new_id}/replicas/{standby['replica_id']}",
                 json={"instance_id": PAY_STANDBY, "status": "syncing"}, headers=agent_h), 200)
    expect(s.post(f"{base}/api/agents/{new_id}/replicas/{standby['replica_id']}/status",
                  json={"status": "ready"}, headers=agent_h), 200)

    # The 2-minute notice: the ready standby takes over inside the deadline.
    deadline = (datetime.now(timezone.utc) + timedelta(seconds=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    notice = {"signal_type": "termination-notice", "instance_id": PAY_NEW,
              "termination_time": deadline}
    expect(s.post(f"{base}/api/agents/{new_id}/create-emergency-replica", json=notice,
                  headers=agent_h), 200)
    answer = expect(s.post(f"{base}/api/agents/{new_id}/termination-imminent",
                           json={"instance_id": PAY_NEW, "termination_time": deadline,
                                 "detected_at": iso(datetime.now(timezone.utc))},
                           headers=agent_h), 200)
    assert answer["success"] is True and answer["new_instance_id"] == PAY_STANDBY, answer
    view = op.agent(tenant_id, logical)
    assert view["placement"]["instance_id"] == PAY_STANDBY, view["placement"]
    [incident] = [i for i in op.incidents(tenant_id, logical)
                  if i["signal"] == "termination-notice"]
    assert incident["promoted_at"] is not None, incident


def prices_and_savings(s, base, operator, tenant_id):
    """The management API's price and ledger routes over what the flows above did."""
    h = {"Authorization": f"Bearer {operator}"}
    u = f"{base}/api/admin/tenants/{tenant_id}"
    pool = "region=us-east-1&instance_type=m5.large&az=us-east-1a"
    raw = expect(s.get(f"{u}/prices?{pool}&view=raw", headers=h), 200)
    assert raw["total"] >= 1 and raw["observations"][0]["price_micros"] == 38900, raw
    clean = expect(s.get(f"{u}/prices?{pool}&view=interpolated", headers=h), 200)
    assert clean["points"][0]["source"] == "primary", clean
    assert clean["gaps"] == [], clean  # one report: one bucket, no hole
    expect(s.get(f"{u}/prices?{pool}&view=nonsense", headers=h), 400)
    expect(s.get(f"{u}/prices?{pool}&from=yesterday", headers=h), 400)
    # The operator's price list: on-demand and every pool, from before the fleet ran.
    catalog = [{"region": "us-east-1", "instance_type": "m5.large", "price": "0.096",
                "at": "2025-01-01T00:00:00Z"}]
    catalog += [{"region": "us-east-1", "instance_type": "m5.large", "az": f"us-east-1{z}",
                 "price": "0.04", "at": "2025-01-01T00:00:00Z"} for z in "abcdef"]
    imported = expect(s.post(f"{u}/prices", headers=h, data=json.dumps(catalog)), 201)
    assert imported["imported"] == 7
    expect(s.post(f"{u}/prices", headers=h, data='[{"region": "us-east-1"}]'), 400)
    r = s.get(f"{u}/prices/latest", headers=h)
    latest = expect(r, 200)
    # Management answers are never cached, refusals included.
    assert r.headers["Cache-Control"] == "no-store", r.headers
    assert s.get(f"{u}/prices/latest").headers["Cache-Control"] == "no-store"
    assert any(p["az"] == "us-east-1c" for p in latest["prices"]), latest
    market = expect(s.get(f"{u}/market?region=us-east-1&instance_type=m5.large", headers=h), 200)
    assert {p["az"] for p in market["pools"]} >= {"us-east-1a", "us-east-1c"}, market
    assert market["on_demand"]["price_micros"] == 96000, market
    # The payments agent's rebalance recommendation and termination notice came from
    # 1c: the riskiest pool.
    risk = {p["az"]: p["risk"] for p in market["pools"]}
    c = next(p for p in market["pools"] if p["az"] == "us-east-1c")
    assert (c["terminations"], c["rebalances"]) == (1, 1), market
    assert all(0 < r < 1 for r in risk.values()) and max(risk, key=risk.get) == "us-east-1c", risk
    savings = expect(s.get(f"{u}/savings?period=lifetime", headers=h), 200)
    [life] = savings["periods"]
    assert life["run_seconds"] > 0, life
    days = expect(s.get(f"{u}/savings?period=day", headers=h), 200)["periods"]
    # Instances still run, so each call sees a little more; conservation across
    # periods is the ledger suite's, here every figure must balance on its own.
    assert days and days[0]["start"].endswith("T00:00:00.000000Z"), days
    for f in [life] + days:
        if f["cost_micros"] is None:  # some instance ran in a pool with no price at all
            assert f["savings_micros"] is None, f
        else:
            assert f["savings_micros"] == f["baseline_micros"] - f["cost_micros"], f
    expect(s.get(f"{u}/savings?period=week", headers=h), 400)
    agent = expect(s.get(f"{u}/agents", headers=h), 200)["agents"][0]["id"]
    expect(s.get(f"{u}/agents/{agent}/switches", headers=h), 200)
    expect(s.get(f"{u}/agents/{agent}/cost-intervals", headers=h), 200)


def dashboard_files(s, base):
    """/ui: the embedded page and its files, under a CSP, revalidated by ETag."""
    page = s.get(f"{base}/ui")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"], page.headers
    assert s.get(f"{base}/ui/").text == page.text
    script = s.get(f"{base}/ui/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    etag = script.headers["ETag"]
    assert s.get(f"{base}/ui/app.js", headers={"If-None-Match": etag}).status_code == 304
    assert s.get(f"{base}/ui/app.js", headers={"If-None-Match": '"old"'}).status_code == 200
    assert s.get(f"{base}/ui/nothing.js").status_code == 404
    refused = s.post(f"{base}/ui/", data="x")
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET", refused.headers
    assert s.get(f"{base}/uix").status_code == 404


if __name__ == "__main__":
    sys.exit(main())
