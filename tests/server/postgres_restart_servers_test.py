"""PostgreSQL restarting under load, at the HTTP level: two spotopt-server processes
on one database, the simulated agents of two tenants (agent_sim.py) spread over
them, the operator's switches in flight; PostgreSQL restarts (tests/pg/cluster.sh
restart: a fast stop cuts every session). Requests during the outage get 503 with
Retry-After and nothing else goes wrong; then every request succeeds again. Nothing
is lost or duplicated: every command delivered exactly once; the price rows are
exactly those of the acknowledged reports (none of a 503'd one); every registration
answered is stored once; every acknowledged heartbeat is in its registration's last
seen time. A cluster of its own, since restarting the shared one would cut other
tests off.

Usage: python3 postgres_restart_servers_test.py PATH/TO/spotopt-server
"""
import os
import shutil
import subprocess
import sys
import tempfile

import pg_fleet
from common import find_binary

SERVERS = 2
ROUNDS = 3
CLUSTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pg", "cluster.sh")


def cluster(action, directory, *seconds_down):
    subprocess.run(["bash", CLUSTER, action, directory, *seconds_down], check=True)


def check_rows(fleet, pg):
    """The database against what the agents were answered."""
    agents = fleet.agents
    stored = {int(at): int(n) for at, n in pg_fleet.psql(
        pg, "SELECT observed_at, count(*) FROM price_observations GROUP BY observed_at")}
    acknowledged = {at: n for a in agents for at, n in a.reports.items()}
    lost = set().union(*(a.lost_reports for a in agents))
    assert stored == acknowledged, (
        f"price rows of unacknowledged reports: {set(stored) - set(acknowledged)}; "
        f"acknowledged reports missing or miscounted: "
        f"{[(at, n, stored.get(at)) for at, n in acknowledged.items() if stored.get(at) != n]}")
    assert not lost & set(stored)
    registrations = sorted(r for a in agents for r in a.registrations.values())
    assert sorted(r for (r,) in pg_fleet.psql(pg, "SELECT id FROM registrations")) == \
        registrations
    seen = {r: int(at) for r, at in pg_fleet.psql(
        pg, "SELECT id, last_seen_at FROM registration_liveness")}
    for a in agents:
        for registration, began in a.last_beat.items():
            assert seen[registration] >= began * 1e6, (registration, seen[registration], began)
    return len(acknowledged), len(lost)


def main():
    binary = find_binary()
    directory = f"/tmp/spotopt-pg-http-restart-{os.getpid()}"
    pg = f"host={directory} user=spotopt dbname=postgres"
    work = tempfile.mkdtemp(prefix="spotopt-pg-restart-")
    cluster("start", directory)
    fleet = None
    try:
        fleet = pg_fleet.Fleet(binary, f"postgresql:{pg}", work, SERVERS)
        answered_by_restart = []

        def restart(round_):
            # The first round's switches are in flight, and the agents beat on.
            if round_ == 0:
                cluster("restart", directory, "2")
                answered_by_restart.append(fleet.out.ok)

        with fleet:
            enqueued = fleet.switch_rounds(ROUNDS, between=restart)
        assert fleet.out.unavailable > 0, "no request met the outage"
        assert fleet.out.ok > answered_by_restart[0], "nothing succeeded after the restart"
        fleet.check_outcome(enqueued)
        fleet.stop()  # writes the held heartbeats
        reports, lost = check_rows(fleet, pg)
        print(f"PostgreSQL restarted under load: {fleet.out.unavailable} requests answered "
              f"503, {fleet.out.ok} answered; {len(enqueued)} switches each delivered once; "
              f"{reports} price reports stored, {lost} lost with their 503")
    finally:
        if fleet:
            fleet.kill()
        cluster("stop", directory)
    shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
