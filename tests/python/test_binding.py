"""The Python binding over the C ABI: a real agent flow, errors, threads."""
import json
import os
import tempfile
import threading

import pytest

import spotopt

INSTANCE = "i-0a1b2c3d4e5f67890"


def register_body(instance=INSTANCE, logical="checkout-api-1"):
    return json.dumps({"instance_id": instance, "region": "us-east-1",
                       "logical_agent_id": logical, "instance_type": "m5.large",
                       "az": "us-east-1a", "mode": "spot", "public_ip": None}).encode()


@pytest.fixture(params=["memory", "sqlite"])
def controller(request):
    with tempfile.TemporaryDirectory() as tmp:
        uri = "memory:" if request.param == "memory" else f"sqlite:{os.path.join(tmp, 'a.db')}"
        with spotopt.Controller(uri) as c:
            yield c


def test_version_is_semver():
    parts = spotopt.version().split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)


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


def test_errors_map_to_exceptions():
    with pytest.raises(spotopt.InvalidArgument, match="store URI"):
        spotopt.Controller("postgres://nowhere")
    with spotopt.Controller("memory:") as c:
        with pytest.raises(spotopt.InvalidArgument):
            c.create_tenant("")
    with pytest.raises(spotopt.FailedPrecondition):
        c.create_tenant("after close")
    c.close()  # idempotent


def test_threads_share_one_controller():
    with spotopt.Controller("memory:") as c:
        _, token = c.create_tenant("acme")
        auth = f"Bearer {token}"
        errors = []

        def agent(n):
            try:
                instance = f"i-0a1b2c3d4e{n:07x}"
                status, body = c.handle_request("POST", "/api/agents/register", authorization=auth,
                                                body=register_body(instance, f"agent-{n}"))
                assert status == 201, body
                agent_id = json.loads(body)["agent_id"]
                for _ in range(50):
                    status, _ = c.handle_request("POST", f"/api/agents/{agent_id}/heartbeat",
                                                 authorization=auth, body=b'{"status": "online"}')
                    assert status == 200
            except AssertionError as e:  # reported to the main thread
                errors.append(e)

        threads = [threading.Thread(target=agent, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
