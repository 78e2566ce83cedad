"""Two spotopt-server processes on one PostgreSQL database, as behind a load balancer:
an agent registers on one and beats on the other, the operator's switches are
enqueued on either, and when both servers poll for the agent at the same moment the
command is delivered exactly once. Then one server is killed (-9) under load: the
other answers every request throughout, and the killed one, restarted, carries on. The database is a new one in the server ctest
starts (tests/pg/cluster.sh), named by SPOTOPT_TEST_PG."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import requests

from common import Server, bearer, find_binary
from operators import AdminApiOperator

INSTANCE = "i-0a1b2c3d4e5f67890"
ROUNDS = 10


def psql(sql):
    server = os.environ.get("SPOTOPT_TEST_PG")
    assert server, "SPOTOPT_TEST_PG is not set: run the test through ctest"
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", server, "-c", sql], check=True)
    return server


def expect(response, status):
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: "
        f"{response.status_code} {response.text}")
    return response.json()


def kill_under_load(a, b, agent_id, agent_h):
    stop = threading.Event()
    answered, failures = [0], []

    def load(server, tolerate_down):
        session = requests.Session()
        beat = {"status": "online", "instance_id": INSTANCE}
        while not stop.is_set():
            try:
                for r in (session.post(f"{server.base}/api/agents/{agent_id}/heartbeat",
                                       json=beat, headers=agent_h),
                          session.get(f"{server.base}/api/agents/{agent_id}/config",
                                      headers=agent_h)):
                    if r.status_code != 200:
                        failures.append(f"{server.base}: {r.status_code} {r.text}")
                    answered[0] += 1
            except requests.ConnectionError:
                if not tolerate_down:
                    failures.append(f"{server.base}: connection refused")
                time.sleep(0.01)

    threads = [threading.Thread(target=load, args=(b, False)) for _ in range(3)]
    threads += [threading.Thread(target=load, args=(a, True)) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    a.proc.kill()  # SIGKILL: its transactions in flight die with its connections
    a.proc.wait()
    a.log.close()
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert not failures, failures[:5]
    assert answered[0] > 0
    a.start()
    expect(requests.get(f"{a.base}/api/agents/{agent_id}/config", headers=agent_h), 200)


def main():
    binary = find_binary()
    db = f"servers_{os.getpid()}"
    uri = f"postgresql:{psql(f'CREATE DATABASE {db}')} dbname={db}"
    work = tempfile.mkdtemp(prefix="spotopt-pg-servers-")
    operators = os.path.join(work, "operators")
    servers = []
    try:
        for i in range(2):
            server = Server(binary, workdir=os.path.join(work, str(i)),
                            extra_args=["--operators", operators])
            os.makedirs(server.dir)
            server.db = uri
            servers.append(server)
        a, b = servers
        token = a.cli("tenant", "create", "acme")
        operator = a.cli("operator-token", "--operators", operators)
        for server in servers:
            server.start()
        agent_h = bearer(token)
        body = {"client_token": token, "instance_id": INSTANCE, "region": "us-east-1",
                "logical_agent_id": "checkout-api", "instance_type": "m5.large",
                "az": "us-east-1a", "mode": "spot", "hostname": "ip-10-0-0-1",
                "agent_version": "4.0.0"}
        reg = expect(requests.post(f"{a.base}/api/agents/register", json=body,
                                   headers=agent_h), 201)
        agent_id = reg["agent_id"]
        # The other server knows the registration at once.
        expect(requests.post(f"{b.base}/api/agents/{agent_id}/heartbeat",
                             json={"status": "online", "instance_id": INSTANCE},
                             headers=agent_h), 200)
        again = expect(requests.post(f"{b.base}/api/agents/register", json=body,
                                     headers=agent_h), 200)
        assert again["agent_id"] == agent_id, again

        ops = [AdminApiOperator(requests.Session(), s.base, operator) for s in servers]
        tenant_id = ops[0].tenant_id("acme")
        agent = ops[1].agents(tenant_id)[0]["id"]
        for round_ in range(ROUNDS):
            cmd = ops[round_ % 2].switch(tenant_id, agent, target_mode="on-demand",
                                         reason="race", override_limits=True)
            start = threading.Barrier(2)
            got = [None, None]

            def poll(i):
                start.wait()
                got[i] = expect(requests.get(
                    f"{servers[i].base}/api/agents/{agent_id}/pending-commands",
                    headers=agent_h), 200)

            threads = [threading.Thread(target=poll, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            delivered = [c["id"] for answer in got for c in answer]
            assert delivered == [cmd["id"]], (round_, got)
            # Failed, so that the next round may enqueue another placement command.
            expect(requests.post(f"{servers[round_ % 2].base}/api/agents/{agent_id}/commands/"
                                 f"{cmd['id']}/executed",
                                 json={"success": False, "message": "race"},
                                 headers=agent_h), 200)
        kill_under_load(a, b, agent_id, agent_h)
        for server in servers:
            code, _ = server.stop()
            assert code == 0, code
    finally:
        for server in servers:
            server.kill()
        psql(f"DROP DATABASE {db} WITH (FORCE)")
    shutil.rmtree(work)
    print(f"two servers on one PostgreSQL: {ROUNDS} commands, each delivered once")


if __name__ == "__main__":
    sys.exit(main())
