"""The Python binding over the C ABI: every call, its errors, clocks and threads."""
import itertools
import json
import os
import subprocess
import tempfile
import threading
from datetime import datetime, timezone

import pytest

import spotopt

T0 = datetime(2025, 11, 23, 10, 0, tzinfo=timezone.utc)
INSTANCE = "i-0a1b2c3d4e5f67890"
INSTANCE_2 = "i-0a1b2c3d4e5f67891"
OTHER_INSTANCE = "i-0b1b2c3d4e5f67890"
OTHER_INSTANCE_2 = "i-0b1b2c3d4e5f67891"
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"
TO_1B = {"target_mode": "spot", "target_pool_id": "m5.large.us-east-1b", "override_limits": True}


def register_body(instance=INSTANCE, logical="checkout-api-1", az="us-east-1a"):
    return json.dumps({"instance_id": instance, "region": "us-east-1",
                       "logical_agent_id": logical, "instance_type": "m5.large",
                       "az": az, "mode": "spot", "public_ip": None}).encode()


def psql(sql):
    """Runs SQL on the PostgreSQL server ctest starts (tests/pg/cluster.sh)."""
    server = os.environ.get("SPOTOPT_TEST_PG")
    assert server, "SPOTOPT_TEST_PG is not set: run the suite through ctest"
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", server, "-c", sql], check=True)
    return server


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_uri(request):
    if request.param == "postgres":
        # A database of its own per test, in libpq's keyword form (a later dbname wins).
        db = f"py_{os.getpid()}_{next(_databases)}"
        server = psql(f"CREATE DATABASE {db}")
        yield f"postgresql:{server} dbname={db}"
        psql(f"DROP DATABASE {db} WITH (FORCE)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield "memory:" if request.param == "memory" else f"sqlite:{os.path.join(tmp, 'a.db')}"


_databases = itertools.count()


@pytest.fixture
def controller(store_uri):
    with spotopt.Controller(store_uri) as c:
        yield c


class Fleet:
    """A controller on a manual clock with one tenant and two registered agents."""

    def __init__(self, store_uri):
        self.clock = spotopt.ManualClock(T0)
        self.c = spotopt.Controller(store_uri, clock=self.clock)
        self.tenant, self.token = self.c.create_tenant("acme")
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.reg_a, self.agent_a = self.register(INSTANCE, "checkout")
        self.reg_b, self.agent_b = self.register(OTHER_INSTANCE, "payments")

    def register(self, instance, logical, az="us-east-1a"):
        r = self.http("POST", "/api/agents/register", register_body(instance, logical, az))
        assert r.status in (200, 201), r
        reg = json.loads(r.body)["agent_id"]
        agent = next(a["id"] for a in self.c.agents(self.tenant)
                     if a["logical_agent_id"] == logical)
        return reg, agent

    def http(self, method, target, body=b""):
        return self.c.handle_http(method, target, headers=self.auth, body=body)


@pytest.fixture
def fleet(store_uri):
    f = Fleet(store_uri)
    yield f
    f.c.close()


def test_version_is_semver():
    parts = spotopt.version().split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)
    assert spotopt.__version__ == spotopt.version()


def test_agent_flow(controller):
    _, token = controller.create_tenant("acme")
    auth = f"Bearer {token}"
    status, body = controller.handle_request("POST", "/api/agents/register",
                                             authorization=auth, body=register_body())
    assert status == 201, body
    agent_id = json.loads(body)["agent_id"]
    status, body = controller.handle_request(
        "POST", f"/api/agents/{agent_id}/heartbeat", authorization=auth,
        body=b'{"status": "online"}')
    assert status == 200 and json.loads(body)["success"] is True
    status, body = controller.handle_request("GET", f"/api/agents/{agent_id}/config",
                                             authorization=auth)
    assert status == 200 and json.loads(body)["enabled"] is True
    status, body = controller.handle_request("GET", f"/api/agents/{agent_id}/pending-commands",
                                             authorization=auth)
    assert status == 200 and json.loads(body) == []
    controller.tick()


def test_protocol_errors_are_http_statuses(controller):
    _, token = controller.create_tenant("acme")
    status, body = controller.handle_request("GET", "/api/agents/None/config",
                                             authorization=f"Bearer {token}")
    assert status == 404 and json.loads(body)["error"] == "not_found"
    status, _ = controller.handle_request("GET", "/api/agents/x/config")
    assert status == 401


def test_handle_http_returns_headers(fleet):
    config = f"/api/agents/{fleet.reg_a}/config"
    r = fleet.http("GET", config)
    assert r.status == 200 and json.loads(r.body)["enabled"] is True
    assert ("Content-Type", "application/json; charset=utf-8") in r.headers
    r = fleet.http("DELETE", config)
    assert r.status == 405 and ("Allow", "GET") in r.headers
    r = fleet.c.handle_http("GET", config, headers=[("authorization", f"bearer {fleet.token}")])
    assert r.status == 200  # header names and the scheme compare case-insensitively
    r = fleet.c.handle_http("GET", config)
    assert r.status == 401 and json.loads(r.body)["error"] == "unauthenticated"


def test_tenants_and_tokens(fleet):
    c, tenant = fleet.c, fleet.tenant
    assert c.tenant(tenant)["name"] == "acme"
    assert [t["id"] for t in c.tenants()] == [tenant]
    assert c.authenticate(fleet.token) == tenant
    with pytest.raises(spotopt.Unauthenticated):
        c.authenticate("sot_wrongwrongwrongwrongwrongwron")
    with pytest.raises(spotopt.NotFound, match="tenant"):
        c.tenant(NO_SUCH_ID)
    with pytest.raises(spotopt.InvalidArgument):
        c.create_tenant("")

    c.suspend_tenant(tenant)
    assert c.tenant(tenant)["state"] == "suspended"
    with pytest.raises(spotopt.FailedPrecondition):
        c.suspend_tenant(tenant)
    with pytest.raises(spotopt.PermissionDenied):
        c.authenticate(fleet.token)
    assert fleet.http("GET", f"/api/agents/{fleet.reg_a}/config").status == 403
    c.reactivate_tenant(tenant)
    with pytest.raises(spotopt.FailedPrecondition):
        c.reactivate_tenant(tenant)

    new_token = c.rotate_token(tenant)
    assert new_token != fleet.token
    assert c.authenticate(new_token) == tenant == c.authenticate(fleet.token)  # grace
    with pytest.raises(spotopt.NotFound):
        c.rotate_token(NO_SUCH_ID)

    c.delete_tenant(tenant)
    with pytest.raises(spotopt.FailedPrecondition):
        c.delete_tenant(tenant)
    with pytest.raises(spotopt.Unauthenticated):
        c.authenticate(new_token)
    assert c.tenant(tenant)["state"] == "deleted"


def test_agents_config_and_liveness(fleet):
    c, tenant = fleet.c, fleet.tenant
    agent = c.agent(tenant, fleet.agent_a)
    assert agent["lifecycle"] == "active" and agent["liveness"] == "online"
    assert agent["placement"]["instance_id"] == INSTANCE
    assert agent["registrations"][0]["agent_id"] == fleet.reg_a
    assert {a["logical_agent_id"] for a in c.agents(tenant)} == {"checkout", "payments"}
    with pytest.raises(spotopt.NotFound):
        c.agent(tenant, fleet.reg_a)  # a registration is not a logical agent
    with pytest.raises(spotopt.NotFound):
        c.agents(NO_SUCH_ID)

    assert c.heartbeat(tenant, fleet.reg_a, "online", INSTANCE, "m5.large", "us-east-1a") == 1
    fleet.clock.advance(61)
    assert c.agent(tenant, fleet.agent_a)["liveness"] == "stale"
    fleet.clock.advance(60)
    assert c.agent(tenant, fleet.agent_a)["liveness"] == "offline"
    assert c.heartbeat(tenant.encode(), fleet.reg_a.encode()) == 1  # bytes work too
    assert c.agent(tenant, fleet.agent_a)["liveness"] == "online"
    with pytest.raises(spotopt.InvalidArgument, match="status"):
        c.heartbeat(tenant, fleet.reg_a, "sleeping")
    with pytest.raises(spotopt.NotFound):
        c.heartbeat(tenant, NO_SUCH_ID)

    config = c.config(tenant, fleet.agent_a)
    assert config["config_version"] == 1 and config["enabled"] is True
    config = c.update_config(tenant, fleet.agent_a, {"min_savings_percent": 25},
                             expected_version=1)
    assert config["config_version"] == 2 and config["min_savings_percent"] == 25
    with pytest.raises(spotopt.FailedPrecondition):
        c.update_config(tenant, fleet.agent_a, {"risk_threshold": 0.5}, expected_version=1)
    with pytest.raises(spotopt.InvalidArgument, match="no_such_key"):
        c.update_config(tenant, fleet.agent_a, '{"no_such_key": 1}')
    with pytest.raises(spotopt.InvalidArgument):
        c.update_config(tenant, fleet.agent_a, "{not json")
    assert c.update_config(tenant, fleet.agent_a, {"autoSwitchEnabled": False})[
        "auto_switch_enabled"] is False

    c.set_enabled(tenant, fleet.agent_a, False)
    assert c.config(tenant, fleet.agent_a)["enabled"] is False
    with pytest.raises(spotopt.FailedPrecondition, match="disabled"):
        c.enqueue_switch(tenant, fleet.agent_a, **TO_1B)
    c.set_enabled(tenant, fleet.agent_a, True)
    with pytest.raises(spotopt.NotFound):
        c.set_enabled(tenant, NO_SUCH_ID, True)


def test_commands(fleet):
    c, tenant = fleet.c, fleet.tenant
    with pytest.raises(spotopt.InvalidArgument, match="target_pool_id"):
        c.enqueue_switch(tenant, fleet.agent_a, target_mode="spot")
    with pytest.raises(spotopt.InvalidArgument, match="priority"):
        c.enqueue_switch(tenant, fleet.agent_a, **TO_1B, priority=60)
    assert c.commands(tenant, fleet.agent_a) == []

    command = c.enqueue_switch(tenant, fleet.agent_a, **TO_1B, reason="pytest")
    assert command["state"] == "pending" and command["priority"] == 75
    assert command["requested_by"] == "capi" and command["reason"] == "pytest"
    assert c.command(tenant, command["id"])["agent_id"] == fleet.agent_a
    assert c.poll_command(tenant, fleet.reg_b) is None
    polled = c.poll_command(tenant, fleet.reg_a)
    assert polled["id"] == command["id"] and polled["command_type"] == "switch"
    assert c.poll_command(tenant, fleet.reg_a) is None  # delivered once, ever
    acked = c.ack_command(tenant, fleet.reg_a, command["id"], True, "switched")
    assert acked["state"] == "succeeded" and acked["result_message"] == "switched"
    assert c.ack_command(tenant, fleet.reg_a, command["id"])["state"] == "succeeded"
    with pytest.raises(spotopt.NotFound):
        c.ack_command(tenant, fleet.reg_a, NO_SUCH_ID)

    pending = c.enqueue_switch(tenant, fleet.agent_a, **TO_1B)
    with pytest.raises(spotopt.FailedPrecondition):
        c.ack_command(tenant, fleet.reg_a, pending["id"])  # never delivered
    assert c.cancel_command(tenant, fleet.agent_a, pending["id"])["state"] == "cancelled"
    with pytest.raises(spotopt.FailedPrecondition):
        c.cancel_command(tenant, fleet.agent_a, pending["id"], reason="again")

    short = c.enqueue_switch(tenant, fleet.agent_a, target_mode="spot",
                             target_pool_id="m5.large.us-east-1c", override_limits=True,
                             ttl_seconds=60)
    fleet.clock.advance(61)
    fleet.c.tick()  # at the clock's time
    assert c.command(tenant, short["id"])["state"] == "expired"
    assert [x["state"] for x in c.commands(tenant, fleet.agent_a)] == [
        "succeeded", "cancelled", "expired"]


def launch_replica(fleet, replica_id, instance):
    work = json.loads(fleet.http("GET", f"/api/agents/{fleet.reg_a}/replicas?status=launching").body)
    assert [w["id"] for w in work["replicas"]] == [replica_id]
    body = json.dumps({"instance_id": instance, "status": "syncing"}).encode()
    assert fleet.http("PUT", f"/api/agents/{fleet.reg_a}/replicas/{replica_id}", body).status == 200
    assert fleet.http("POST", f"/api/agents/{fleet.reg_a}/replicas/{replica_id}/status",
                      b'{"status": "ready"}').status == 200


def test_replicas(fleet):
    c, tenant = fleet.c, fleet.tenant
    replica = c.request_replica(tenant, fleet.agent_a)
    assert replica["state"] == "requested"
    with pytest.raises(spotopt.FailedPrecondition):
        c.request_replica(tenant, fleet.agent_a)  # one live replica per agent
    with pytest.raises(spotopt.FailedPrecondition):
        c.promote_replica(tenant, fleet.agent_a, replica["id"])  # not ready
    with pytest.raises(spotopt.NotFound):
        c.promote_replica(tenant, fleet.agent_a, NO_SUCH_ID)
    launch_replica(fleet, replica["id"], INSTANCE_2)
    promoted = c.promote_replica(tenant, fleet.agent_a, replica["id"])
    assert promoted["instance_id"] == INSTANCE_2
    assert c.agent(tenant, fleet.agent_a)["placement"]["instance_id"] == INSTANCE_2
    assert "placement_moved" in [e["kind"] for e in c.events(tenant, fleet.agent_a)]

    standby = c.request_replica(tenant, fleet.agent_a, replica_type="standby")
    assert standby["replica_type"] == "standby"
    assert c.terminate_replica(tenant, fleet.agent_a, standby["id"])["state"] == "failed"
    with pytest.raises(spotopt.FailedPrecondition):
        c.terminate_replica(tenant, fleet.agent_a, standby["id"])
    states = {r["id"]: r["state"] for r in c.replicas(tenant, fleet.agent_a)}
    assert states == {replica["id"]: "promoted", standby["id"]: "failed"}


def test_switches_incidents_create_replica_and_delete(fleet):
    c, tenant = fleet.c, fleet.tenant
    command = c.enqueue_switch(tenant, fleet.agent_b, target_mode="spot",
                               target_pool_id="m5.large.us-east-1c", override_limits=True)
    assert c.poll_command(tenant, fleet.reg_b)["id"] == command["id"]
    report = {
        "old_instance": {"instance_id": OTHER_INSTANCE, "instance_type": "m5.large",
                         "region": "us-east-1", "az": "us-east-1a", "mode": "spot"},
        "new_instance": {"instance_id": OTHER_INSTANCE_2, "instance_type": "m5.large",
                         "region": "us-east-1", "az": "us-east-1c", "mode": "spot"},
        "prices": {"on_demand": 0.096, "old_spot": 0.0389, "new_spot": 0.0342},
        "timing": {"switch_initiated_at": "2025-11-23T10:15:02.481930+00:00"},
        "trigger": "manual", "command_id": command["id"]}
    assert fleet.http("POST", f"/api/agents/{fleet.reg_b}/switch-report",
                      json.dumps(report).encode()).status == 200
    [record] = c.switches(tenant, fleet.agent_b)
    assert record["new_instance"]["instance_id"] == OTHER_INSTANCE_2
    assert record["prices"] == {"on_demand": 0.096, "old_spot": 0.0389, "new_spot": 0.0342}
    assert record["timing"]["switch_initiated_at"] == "2025-11-23T10:15:02.481930Z"
    assert c.switches(tenant, fleet.agent_a) == []

    assert fleet.http("POST", f"/api/agents/{fleet.reg_b}/rebalance-recommendation",
                      json.dumps({"instance_id": OTHER_INSTANCE}).encode()).status == 200
    [incident] = c.incidents(tenant, fleet.agent_b)
    assert incident["signal"] == "rebalance-recommendation"

    created = c.enqueue_create_replica(tenant, fleet.agent_b, requested_by="pytest")
    assert created["command_type"] == "create_replica" and created["requested_by"] == "pytest"
    with pytest.raises(spotopt.FailedPrecondition):
        c.enqueue_create_replica(tenant, fleet.agent_b)

    c.delete_agent(tenant, fleet.agent_b)
    with pytest.raises(spotopt.NotFound):
        c.delete_agent(tenant, fleet.agent_b)
    assert c.agent(tenant, fleet.agent_b)["lifecycle"] == "deleted"
    with pytest.raises(spotopt.NotFound):
        c.heartbeat(tenant, fleet.reg_b)
    assert "pending" not in [x["state"] for x in c.commands(tenant, fleet.agent_b)]


def test_other_tenants_see_nothing(fleet):
    c = fleet.c
    other, _ = c.create_tenant("globex")
    reads = [lambda: c.agent(other, fleet.agent_a), lambda: c.commands(other, fleet.agent_a),
             lambda: c.replicas(other, fleet.agent_a), lambda: c.events(other, fleet.agent_a),
             lambda: c.incidents(other, fleet.agent_a), lambda: c.switches(other, fleet.agent_a),
             lambda: c.config(other, fleet.agent_a), lambda: c.heartbeat(other, fleet.reg_a),
             lambda: c.poll_command(other, fleet.reg_a),
             lambda: c.update_config(other, fleet.agent_a, {"enabled": False}),
             lambda: c.delete_agent(other, fleet.agent_a)]
    for read in reads:
        with pytest.raises(spotopt.NotFound):
            read()
    assert c.agents(other) == []
    assert c.config(fleet.tenant, fleet.agent_a)["enabled"] is True


def test_clocks(store_uri):
    clock = spotopt.ManualClock(T0)
    assert clock.now() == T0.timestamp()
    clock.advance(1.5)
    assert clock.now() == T0.timestamp() + 1.5
    clock.set(T0.timestamp() - 10)  # backwards is allowed
    assert clock.now() == T0.timestamp() - 10
    with pytest.raises(spotopt.InvalidArgument):
        clock.advance(-1)

    calls = []

    def host_now():
        calls.append(1)
        return datetime(2030, 1, 1, tzinfo=timezone.utc)

    hosted = spotopt.CallbackClock(host_now)
    assert hosted.now() == datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()
    with spotopt.Controller(store_uri, clock=hosted) as c:
        hosted.close()  # the controller keeps its own reference
        tenant, _ = c.create_tenant("timed")
        assert c.tenant(tenant)["created_at"] == "2030-01-01T00:00:00.000000Z"
    assert len(calls) > 1


def test_errors_map_to_exceptions():
    with pytest.raises(spotopt.InvalidArgument, match="store URI"):
        spotopt.Controller("postgres:nowhere")
    # A database that cannot be reached is the store's answer, not the URI's.
    with pytest.raises(spotopt.Unavailable, match="cannot connect"):
        spotopt.Controller("postgresql://spotopt@/none?host=/nonexistent")
    with pytest.raises(spotopt.InvalidArgument, match="store URI"):
        spotopt.Controller("nope:", clock=spotopt.ManualClock(T0))
    with spotopt.Controller("memory:") as c:
        with pytest.raises(spotopt.InvalidArgument):
            c.create_tenant("")
        assert issubclass(spotopt.NotFound, spotopt.SpotoptError)
    with pytest.raises(spotopt.FailedPrecondition):
        c.create_tenant("after close")
    with pytest.raises(spotopt.FailedPrecondition):
        c.heartbeat("t", "r")
    c.close()  # idempotent


def test_threads_share_one_controller(store_uri):
    """Agents beat, poll and get switches delivered exactly once while an operator
    thread enqueues, a ticker ticks and readers list, all on one controller."""
    fleet = Fleet(store_uri)
    c, tenant = fleet.c, fleet.tenant
    errors = []
    done = threading.Event()

    def agent(n):
        try:
            reg, agent_id = fleet.register(f"i-0c0c0c0c0c0c0{n:04x}", f"worker-{n}")
            delivered = 0
            for round_ in range(40):
                assert c.heartbeat(tenant, reg) >= 1
                r = fleet.http("GET", f"/api/agents/{reg}/config")
                assert r.status == 200
                if round_ % 10 == 0:
                    pool = "m5.large.us-east-1b" if round_ % 20 == 0 else "m5.large.us-east-1c"
                    c.enqueue_switch(tenant, agent_id, target_mode="spot", target_pool_id=pool,
                                     override_limits=True)
                polled = c.poll_command(tenant, reg)
                if polled is not None:
                    delivered += 1
                    assert c.ack_command(tenant, reg, polled["id"])["state"] == "succeeded"
            assert delivered == 4
        except Exception as e:  # reported to the main thread
            errors.append(e)

    def ticker():
        try:
            while not done.is_set():
                c.tick()
                c.agents(tenant)
                fleet.clock.advance(0.001)
        except Exception as e:
            errors.append(e)

    helper = threading.Thread(target=ticker)
    helper.start()
    threads = [threading.Thread(target=agent, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    helper.join()
    fleet.c.close()
    assert errors == []


def test_prices_and_savings():
    with spotopt.Controller("memory:", clock=spotopt.ManualClock(T0)) as c:
        tenant, _ = c.create_tenant("acme")
        prices = [{"region": "us-east-1", "instance_type": "m5.large", "price": 0.096,
                   "at": "2025-11-01T00:00:00Z"},
                  {"region": "us-east-1", "az": "us-east-1a", "instance_type": "m5.large",
                   "price": "0.04", "at": "2025-11-01T00:00:00Z"},
                  {"region": "us-east-1", "az": "us-east-1a", "instance_type": "m5.large",
                   "price": "0.05", "at": "2025-11-01T00:20:00Z"}]
        assert c.import_prices(tenant, prices) == 3
        with pytest.raises(spotopt.InvalidArgument):
            c.import_prices(tenant, [{"region": "us-east-1"}])
        raw = c.price_series(tenant, "us-east-1", "m5.large", "us-east-1a", view="raw")
        assert [o["price_micros"] for o in raw] == [40000, 50000]
        filled = c.price_series(tenant, "us-east-1", "m5.large", "us-east-1a", view="interpolated")
        assert [p["price_micros"] for p in filled] == [40000, 42500, 45000, 47500, 50000]
        assert filled[1]["source"] == "interpolated"
        assert c.price_series(tenant, "us-east-1", "m5.large")[0]["price_micros"] == 96000
        with pytest.raises(spotopt.InvalidArgument):
            c.price_series(tenant, "us-east-1", "m5.large", view="smooth")
        assert {p["az"] for p in c.latest_prices(tenant)} == {"", "us-east-1a"}
        feed = ('{"ranges": [{"index": 0, "label": "<5%", "max": 5}], "spot_advisor": '
                '{"us-east-1": {"Linux": {"m5.large": {"s": 60, "r": 0}}}}}')
        assert c.load_advisor_feed(feed) == 1
        market = c.market(tenant, "us-east-1", "m5.large")
        assert market["advisor"]["interruption_frequency"] == "<5%"
        assert market["on_demand"]["price_micros"] == 96000
        assert c.savings(tenant, period="lifetime") == []  # no agent ran yet
        with pytest.raises(spotopt.InvalidArgument):
            c.savings(tenant, period="week")


def fleet_with_prices(store_uri, spot_1b="0.020"):
    """A fleet a day later, with agent a's report: 1a at 0.040, 1b as given."""
    f = Fleet(store_uri)
    f.clock.advance(24 * 3600)
    report = {"instance": {"instance_type": "m5.large"},
              "pricing": {"on_demand_price": 0.096, "collected_at": f.clock.now(),
                          "spot_pools": [
                              {"pool_id": "m5.large.us-east-1a", "price": 0.040},
                              {"pool_id": "m5.large.us-east-1b", "price": float(spot_1b)}]}}
    report["pricing"]["collected_at"] = datetime.fromtimestamp(
        f.clock.now(), timezone.utc).isoformat()
    r = f.http("POST", f"/api/agents/{f.reg_a}/pricing-report", json.dumps(report).encode())
    assert r.status == 200, r
    return f


def test_decisions_preview_run_and_log(store_uri):
    f = fleet_with_prices(store_uri)
    try:
        preview = f.c.decide(f.tenant, f.agent_a)
        assert preview["decision"]["action"] == "switch_spot"
        assert preview["decision"]["target_pool_id"] == "m5.large.us-east-1b"
        assert preview["input"]["version"] == 1
        assert preview["engine_asked"] == "rules 1.0.0"
        assert preview["fallback"] is None
        report = f.c.run_decisions()
        assert report["agents"] == 2 and report["acted"] == 2
        log = f.c.decisions(f.tenant, f.agent_a)
        assert log[0]["acted"] and log[0]["command_id"]
        assert log[0]["decision"]["reason"] == "cheaper_pool"
        assert f.c.decisions(f.tenant, limit=1)[0]["seq"] == max(
            e["seq"] for e in f.c.decisions(f.tenant))
        command = f.c.poll_command(f.tenant, f.reg_a)
        assert command["target_pool_id"] == "m5.large.us-east-1b"
        assert command["priority"] == 25
        with pytest.raises(spotopt.InvalidArgument):
            f.c.decisions(f.tenant, limit=0)
        with pytest.raises(spotopt.NotFound):
            f.c.decide(f.tenant, NO_SUCH_ID)
    finally:
        f.c.close()


def test_a_python_engine_decides_and_falls_back(store_uri):
    f = fleet_with_prices(store_uri, spot_1b="0.039")
    try:
        seen = []

        def cautious(decision_input):
            seen.append(decision_input)
            return {"action": "switch_spot", "target_pool_id": "m5.large.us-east-1b",
                    "reason": "lower_expected_cost", "risk": 0.05, "message": "mine"}

        f.c.register_engine("cautious", "1", "c" * 64, cautious, "a test engine")
        names = [(e["name"], e["kind"]) for e in f.c.engines()]
        assert ("cautious", "host") in names and ("rules", "builtin") in names
        engines = f.c.activate_engine(f.tenant, "cautious", "1")
        assert engines["active"]["name"] == "cautious"
        assert engines["previous"]["name"] == "rules"
        preview = f.c.decide(f.tenant, f.agent_a)
        assert seen and seen[-1]["agent"]["id"] == f.agent_a
        # The guards hold even a host's engine: 0.039 saves less than 30 %.
        assert preview["decision"]["engine"] == "cautious"
        assert preview["decision"]["action"] == "stay"
        assert preview["decision"]["guard"] == "min_savings"
        assert preview["decision"]["held_target_pool_id"] == "m5.large.us-east-1b"

        def broken(_):
            raise RuntimeError("no")

        f.c.register_engine("broken", "1", "b" * 64, broken)
        f.c.activate_engine(f.tenant, "broken", "1")
        preview = f.c.decide(f.tenant, f.agent_a)
        assert preview["decision"]["engine"] == "cautious"  # the previous engine
        assert "broken 1 failed" in preview["fallback"]
        with pytest.raises(spotopt.AlreadyExists):
            f.c.register_engine("broken", "1", "d" * 64, broken)
        assert f.c.rollback_engine(f.tenant)["active"]["name"] == "cautious"
        f.c.unregister_engine("broken", "1")
        with pytest.raises(spotopt.NotFound):
            f.c.activate_engine(f.tenant, "broken", "1")
    finally:
        f.c.close()


def test_the_committed_model_registers_and_decides(store_uri):
    f = fleet_with_prices(store_uri)
    try:
        root = os.path.join(os.path.dirname(__file__), "..", "..", "models", "price-24h")
        engine = f.c.register_model_files(os.path.join(root, "manifest.json"))
        assert engine["kind"] == "model" and len(engine["sha256"]) == 64
        f.c.activate_engine(f.tenant, engine["name"], engine["version"])
        preview = f.c.decide(f.tenant, f.agent_a)
        assert preview["decision"]["engine"] == engine["name"]
        assert preview["input"]["market"]["pools"][0]["history"]["changes"] >= 0
        with open(os.path.join(root, "manifest.json"), "rb") as m:
            with pytest.raises(spotopt.Internal):  # DataLoss: not the model it names
                f.c.register_model(m.read(), b"{}")
    finally:
        f.c.close()
