"""Simulated agents over HTTP for the tests that run several spotopt-server processes
on one database, as behind a load balancer: every request goes to a server picked at
random. Each agent runs WORKERS threads at once over one registration, as agent v4
does (spec section 1.2), so its polls race each other across processes. A polled
switch is carried out the way agent v4 does it (spec section 11.2): the successor
instance registers in the target pool, then the old registration acknowledges and
goes offline; the agent carries on as the successor.

Every answer is recorded, so the test can check the database against what was
acknowledged: deliveries, registrations, price reports (each with a collected_at of
its own), the last acknowledged heartbeat. A 503 must carry Retry-After and the
error "unavailable"; the call is then lost, as the spec says, and tried again on a
later cycle. Any other unexpected answer is a failure."""
import itertools
import random
import threading
import time
from datetime import datetime, timedelta, timezone

import requests

# Agent v4 runs 8; 4 per agent poll concurrently often enough that a lease two
# processes can both take shows (2 did not catch READ COMMITTED leases, 4 did).
WORKERS = 4
REGION, TYPE = "us-east-1", "m5.large"
AZS = ("us-east-1a", "us-east-1b")
# Price reports are collected a microsecond apart from an hour ago: recent enough
# that the raw rows are kept (ControllerOptions::raw_price_retention).
EPOCH = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)


def pool_id(az):
    return f"{TYPE}.{az}"


class Balancer:
    """The servers behind one address: each request to a random one."""

    def __init__(self, bases, seed):
        self.bases = list(bases)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    def base(self):
        with self.lock:
            return self.rng.choice(self.bases)


class Outcomes:
    """What every agent saw, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries = []  # (logical id, command id)
        self.delivered = set()
        self.failures = []
        self.unavailable = 0
        self.ok = 0
        # An id for every price report, shared by all agents so none reports twice.
        self.report_ids = itertools.count(1)

    def fail(self, text):
        with self.lock:
            self.failures.append(text)


class Agent:
    """One logical agent: its current registration and everything acknowledged."""

    def __init__(self, index, tenant_token, logical_id, balancer, outcomes):
        self.index = index
        self.token = tenant_token
        self.h = {"Authorization": f"Bearer {tenant_token}", "Content-Type": "application/json"}
        self.logical_id = logical_id
        self.balancer = balancer
        self.out = outcomes
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)  # no command is being carried out
        self.generation = 0
        self.az = AZS[0]
        self.reg_id = None  # the current registration, once registered
        self.registrations = {}  # instance id -> registration id, as answered
        self.reports = {}  # collected_at in microseconds -> observations accepted
        self.lost_reports = set()  # collected_at of reports answered 503
        self.last_beat = {}  # registration id -> client time before its last acknowledged beat
        self.executing = False
        self.foreign_id = None  # a registration of another tenant, to probe isolation
        self.admin_id = None  # the operator's id of the logical agent

    def instance(self):
        return f"i-{self.index:08x}{self.generation:09x}"

    def call(self, session, method, path, body=None, ok=(200,)):
        """The answer's JSON when its status is in `ok`; None when the call is lost (503)."""
        url = f"{self.balancer.base()}{path}"
        r = session.request(method, url, json=body, headers=self.h, timeout=30)
        if r.status_code in ok:
            with self.out.lock:
                self.out.ok += 1
            return r.json()
        if r.status_code == 503 and r.headers.get("Retry-After") == "1" and \
                r.json().get("error") == "unavailable":
            with self.out.lock:
                self.out.unavailable += 1
            return None
        self.out.fail(f"{method} {url}: {r.status_code} {r.headers} {r.text}")
        return None

    def register(self, session):
        """Registers the current instance; False when the call was lost."""
        instance = self.instance()
        body = {"client_token": self.token, "instance_id": instance, "region": REGION,
                "logical_agent_id": self.logical_id, "instance_type": TYPE, "az": self.az,
                "mode": "spot", "hostname": f"ip-{self.index}", "agent_version": "4.0.0",
                "ami_id": "unknown", "private_ip": "unknown", "public_ip": None}
        got = self.call(session, "POST", "/api/agents/register", body, ok=(200, 201))
        if got is None:
            return False
        with self.lock:
            known = self.registrations.setdefault(instance, got["agent_id"])
            if known != got["agent_id"]:
                self.out.fail(f"{instance}: registered as {known}, then {got['agent_id']}")
            self.reg_id = got["agent_id"]
        return True

    def cycle(self, session):
        """One worker's turn: heartbeat, config, a price report, a command poll."""
        with self.lock:
            reg_id, az = self.reg_id, self.az
        if reg_id is None:
            self.register(session)
            return
        began = time.time()
        if self.call(session, "POST", f"/api/agents/{reg_id}/heartbeat",
                     {"status": "online", "instance_id": self.instance_of(reg_id)}) is not None:
            with self.lock:
                self.last_beat[reg_id] = max(self.last_beat.get(reg_id, 0), began)
        self.call(session, "GET", f"/api/agents/{reg_id}/config")
        self.report_prices(session, reg_id, az)
        if self.foreign_id is not None:  # another tenant's registration is not found
            self.call(session, "GET", f"/api/agents/{self.foreign_id}/config", ok=(404,))
        with self.lock:
            if self.executing:
                return
        for command in self.call(session, "GET", f"/api/agents/{reg_id}/pending-commands") or []:
            self.take(session, reg_id, command)

    def instance_of(self, reg_id):
        with self.lock:
            return next(i for i, r in self.registrations.items() if r == reg_id)

    def report_prices(self, session, reg_id, az):
        collected = EPOCH + timedelta(microseconds=next(self.out.report_ids))
        micros = (collected - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(
            microseconds=1)
        body = {"instance": {"instance_type": TYPE, "region": REGION, "az": az, "mode": "spot",
                             "pool_id": pool_id(az)},
                "pricing": {"on_demand_price": 0.096, "current_spot_price": 0.04,
                            "collected_at": collected.isoformat(),
                            "spot_pools": [{"pool_id": pool_id(a), "instance_type": TYPE,
                                            "az": a, "price": 0.04} for a in AZS]}}
        got = self.call(session, "POST", f"/api/agents/{reg_id}/pricing-report", body)
        with self.lock:
            if got is None:
                self.lost_reports.add(micros)
            else:
                self.reports[micros] = got["accepted_observations"]

    def take(self, session, reg_id, command):
        """A polled command: recorded, then carried out once no other one runs (the
        agent's poll thread is blocked while it runs one)."""
        with self.out.lock:
            again = command["id"] in self.out.delivered
            self.out.delivered.add(command["id"])
            self.out.deliveries.append((self.logical_id, command["id"]))
        if again:
            self.out.fail(f"{self.logical_id}: {command['id']} delivered twice")
            return
        with self.idle:
            self.idle.wait_for(lambda: not self.executing)
            if reg_id != self.reg_id or command["command_type"] != "switch":
                self.out.fail(f"{self.logical_id}: {command} delivered to {reg_id}, a "
                              f"replaced registration, or not a switch")
                return
            self.executing = True
            self.generation += 1
            self.az = command["target_pool_id"].rsplit(".", 1)[1]
        try:
            self.switch(session, reg_id, command)
        finally:
            with self.idle:
                self.executing = False
                self.idle.notify_all()

    def switch(self, session, old_id, command):
        """Agent v4's switch: the successor registers in the target pool, the old
        registration acknowledges and sends its offline beat."""
        while not self.register(session) and not self.out.failures:
            time.sleep(0.05)
        path = f"/api/agents/{old_id}/commands/{command['id']}/executed"
        while self.call(session, "POST", path, {"success": True, "message": "Switch completed"}) \
                is None and not self.out.failures:
            time.sleep(0.05)
        self.call(session, "POST", f"/api/agents/{old_id}/heartbeat",
                  {"status": "offline", "monitored_instances": []})


def run_agents(agents, stop):
    """Every agent's workers cycle until `stop` is set; returns their threads."""

    def work(agent):
        session = requests.Session()
        while not stop.is_set():
            try:
                agent.cycle(session)
            except Exception as e:  # noqa: BLE001: any surprise fails the test
                agent.out.fail(f"{agent.logical_id}: {e!r}")
                return
            if agent.out.failures:
                return

    threads = [threading.Thread(target=work, args=(a,)) for a in agents
               for _ in range(WORKERS)]
    for t in threads:
        t.start()
    return threads
