"""Four spotopt-server processes on one PostgreSQL database, with the simulated agents
(agent_sim.py) of two tenants spread over them at random, as behind a load balancer.
The operator switches every agent a few times, each switch enqueued on a random
server; the agents' workers poll concurrently on random servers and carry the switch
out. Then: every command was delivered exactly once across all processes, to its
own agent, and succeeded; each logical agent has exactly the registrations its
instances were answered with; each tenant sees only its own agents, and an agent's
token finds no registration of the other tenant. The database is a new one in the
server ctest starts (tests/pg/cluster.sh), named by SPOTOPT_TEST_PG.

Usage: python3 postgres_fleet_test.py PATH/TO/spotopt-server
"""
import os
import shutil
import sys
import tempfile

import pg_fleet
from common import find_binary

SERVERS = 4
ROUNDS = 4


def main():
    binary = find_binary()
    pg = os.environ.get("SPOTOPT_TEST_PG")
    assert pg, "SPOTOPT_TEST_PG is not set: run the test through ctest"
    db = f"fleet_{os.getpid()}"
    pg_fleet.psql(pg, f"CREATE DATABASE {db}")
    work = tempfile.mkdtemp(prefix="spotopt-pg-fleet-")
    try:
        fleet = pg_fleet.Fleet(binary, f"postgresql:{pg} dbname={db}", work, SERVERS)
        with fleet:
            enqueued = fleet.switch_rounds(ROUNDS)
        fleet.check_outcome(enqueued)
        fleet.stop()
        print(f"{SERVERS} servers on one PostgreSQL: {len(fleet.agents)} agents, "
              f"{len(enqueued)} switches each delivered once, {fleet.out.ok} requests answered")
    finally:
        pg_fleet.psql(pg, f"DROP DATABASE {db} WITH (FORCE)")
    shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
