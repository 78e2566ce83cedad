"""The fleet the PostgreSQL server tests share: servers on one database, the
simulated agents of two tenants (agent_sim.py) spread over them at random, the
operator's rounds of switches, and the checks of what the servers answer afterwards."""
import collections
import os
import random
import subprocess
import threading
import time

import requests

import agent_sim
from common import Server
from operators import AdminApiOperator, Refused

AGENTS_PER_TENANT = 6
TENANTS = ("acme", "globex")


def psql(server, sql):
    """Runs `sql` on the libpq keyword string `server`; its rows, '|'-separated."""
    out = subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", server, "-c", sql],
                         check=True, capture_output=True, text=True)
    return [line.split("|") for line in out.stdout.splitlines()]


def retry_unavailable(call):
    """`call()`, again while it is refused 503 (PostgreSQL restarting), as an
    operator would."""
    while True:
        try:
            return call()
        except Refused as e:
            if e.status != 503:
                raise
            time.sleep(0.1)


class Fleet:
    """`count` servers on the database `uri`, and AGENTS_PER_TENANT registered agents
    of each tenant, each probing a registration of the other tenant. `with fleet:`
    runs the agents' workers; stop() stops the servers cleanly."""

    def __init__(self, binary, uri, work, count):
        operators = os.path.join(work, "operators")
        self.servers = []
        for i in range(count):
            server = Server(binary, workdir=os.path.join(work, str(i)),
                            extra_args=["--operators", operators])
            os.makedirs(server.dir)
            server.db = uri
            self.servers.append(server)
        first = self.servers[0]
        tokens = {name: first.cli("tenant", "create", name) for name in TENANTS}
        operator = first.cli("operator-token", "--operators", operators)
        try:
            for server in self.servers:
                server.start()
            self.ops = [AdminApiOperator(requests.Session(), s.base, operator)
                        for s in self.servers]
            self._make_agents(tokens)
        except BaseException:
            self.kill()
            raise
        self.stopping = threading.Event()
        self.threads = []

    def _make_agents(self, tokens):
        balancer = agent_sim.Balancer([s.base for s in self.servers], seed=1)
        self.out = agent_sim.Outcomes()
        self.agents = []
        for t, name in enumerate(TENANTS):
            for i in range(AGENTS_PER_TENANT):
                self.agents.append(agent_sim.Agent(t * AGENTS_PER_TENANT + i, tokens[name],
                                                   f"{name}-{i}", balancer, self.out))
        session = requests.Session()
        for agent in self.agents:
            while not agent.register(session):
                assert not self.out.failures, self.out.failures
        half = len(self.agents) // 2
        for i, agent in enumerate(self.agents):
            agent.foreign_id = self.agents[(i + half) % len(self.agents)].reg_id
        # The operator's ids: each tenant's, and each agent's logical agent.
        self.tenant_ids = {tokens[name]: self.ops[0].tenant_id(name) for name in TENANTS}
        for token, tenant in self.tenant_ids.items():
            ids = {a["logical_agent_id"]: a["id"] for a in self.ops[0].agents(tenant)}
            for agent in self.agents:
                if agent.token == token:
                    agent.admin_id = ids[agent.logical_id]

    def __enter__(self):
        self.threads = agent_sim.run_agents(self.agents, self.stopping)
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join()
        if exc[0] is not None:
            self.kill()

    def op(self):
        """The operator on a random server."""
        return random.choice(self.ops)

    def switch_rounds(self, rounds, between=None):
        """Each round switches every agent to the other zone, on a random server, and
        waits until every switch succeeded. `between(round)` runs once a round's
        switches are enqueued. Returns {command id: logical id}."""
        enqueued = {}
        for round_ in range(rounds):
            target = agent_sim.pool_id(agent_sim.AZS[(round_ + 1) % 2])
            waiting = {}
            for agent in self.agents:
                tenant = self.tenant_ids[agent.token]
                cmd = retry_unavailable(lambda: self.op().switch(
                    tenant, agent.admin_id, target_mode="spot", target_pool_id=target,
                    reason=f"round {round_}", override_limits=True))
                enqueued[cmd["id"]] = agent.logical_id
                waiting[cmd["id"]] = (tenant, agent.admin_id)
            if between:
                between(round_)
            deadline = time.monotonic() + 60
            while waiting and time.monotonic() < deadline and not self.out.failures:
                for command_id, (tenant, logical) in list(waiting.items()):
                    commands = retry_unavailable(lambda: self.op().commands(tenant, logical))
                    if {c["id"]: c["state"] for c in commands}[command_id] == "succeeded":
                        del waiting[command_id]
                time.sleep(0.1)
            assert not self.out.failures, self.out.failures[:5]
            assert not waiting, f"round {round_}: switches not carried out: {waiting}"
        return enqueued

    def check_outcome(self, enqueued):
        """Exactly-once delivery, registrations as answered, tenant isolation."""
        assert not self.out.failures, self.out.failures[:5]
        delivered = collections.Counter(command for _, command in self.out.deliveries)
        twice = {c: n for c, n in delivered.items() if n != 1}
        assert not twice, f"delivered more than once: {twice}"
        assert set(delivered) == set(enqueued), set(delivered) ^ set(enqueued)
        for logical, command in self.out.deliveries:
            assert enqueued[command] == logical, (command, logical, enqueued[command])
        for token, tenant in self.tenant_ids.items():
            listed = sorted(a["logical_agent_id"] for a in self.op().agents(tenant))
            assert listed == sorted(a.logical_id for a in self.agents if a.token == token), listed
        for agent in self.agents:
            tenant = self.tenant_ids[agent.token]
            view = self.op().agent(tenant, agent.admin_id)
            registrations = {r["instance_id"]: r["agent_id"] for r in view["registrations"]}
            assert registrations == agent.registrations, (agent.logical_id, registrations,
                                                          agent.registrations)
            assert view["placement"]["instance_id"] == agent.instance(), view["placement"]
            for c in self.op().commands(tenant, agent.admin_id):
                assert enqueued.get(c["id"]) == agent.logical_id, (agent.logical_id, c)
                assert c["state"] == "succeeded", c

    def stop(self):
        """SIGTERM to every server: each must exit 0 (held heartbeats written)."""
        for server in self.servers:
            code, _ = server.stop()
            assert code == 0, code

    def kill(self):
        for server in self.servers:
            server.kill()
