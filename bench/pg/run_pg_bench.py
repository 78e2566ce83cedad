#!/usr/bin/env python3
"""PostgreSQL against SQLite, in one run so that the comparison holds whatever else
the machine is doing; each figure is the median and range of --runs runs.

1. bench/mixed_workload (the Controller's agent mix, no HTTP) on --store=sqlite and
   --store=postgres, interleaved run by run: ops/s.
2. The server's agent mix (bench/server/agents.lua under wrk): one spotopt-server on
   SQLite, one on PostgreSQL, two on one PostgreSQL database, one wrk per server at
   once (wrk takes one URL; a load balancer would split the load the same way):
   req/s summed over the servers.
3. Bytes per agent in PostgreSQL: pg_total_relation_size of every table (indexes and
   TOAST included) over the agents, after each mixed workload run and after the
   server's fleet was registered and ran the mix.

It starts and stops a throwaway PostgreSQL of its own (tests/pg/cluster.sh), with
fsync off like the tests' (SQLite's benchmark databases run synchronous=NORMAL in
WAL mode, which does not fsync each commit either); each run gets a new database.
Builds nothing: pass the build directory with bench/mixed_workload and
examples/server/spotopt-server.

Usage: bench/pg/run_pg_bench.py BUILD_DIR [--runs 3] [--agents 20000] [--seconds 10]
       [--threads 2] [--server-agents 10000] [--connections 64]
       [--skip mixed|server]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "bench", "server"))
sys.path.insert(0, os.path.join(ROOT, "tests", "server"))
from run_bench import BenchServer, register_all, wrk  # noqa: E402

CLUSTER = os.path.join(ROOT, "tests", "pg", "cluster.sh")
TABLE_BYTES = ("SELECT coalesce(sum(pg_total_relation_size(oid)), 0) FROM pg_class "
               "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace")


class Cluster:
    """tests/pg/cluster.sh's throwaway PostgreSQL, and a new database per run."""

    def __init__(self):
        self.dir = f"/tmp/spotopt-pg-bench-{os.getpid()}"
        subprocess.run(["bash", CLUSTER, "start", self.dir], check=True)
        self.count = 0

    def keywords(self, db):
        return f"host={self.dir} user=spotopt dbname={db}"

    def psql(self, sql, db="postgres"):
        return subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", self.keywords(db),
                               "-c", sql], check=True, capture_output=True, text=True).stdout

    def new_database(self):
        self.count += 1
        db = f"bench_{self.count}"
        self.psql(f"CREATE DATABASE {db}")
        return db

    def drop(self, db):
        self.psql(f"DROP DATABASE {db} WITH (FORCE)")

    def bytes(self, db):
        return int(self.psql(TABLE_BYTES, db))

    def stop(self):
        subprocess.run(["bash", CLUSTER, "stop", self.dir], check=True)


def summary(values, unit, digits=0):
    return (f"median {statistics.median(values):,.{digits}f} {unit}, range "
            f"{min(values):,.{digits}f}-{max(values):,.{digits}f} "
            f"({', '.join(f'{v:,.{digits}f}' for v in values)})")


def mixed_workload(binary, store, args, env):
    out = subprocess.run([binary, f"--store={store}", f"--agents={args.agents}",
                          f"--seconds={args.seconds}", f"--threads={args.threads}"],
                         env=env, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"us per op\): (\d+) ops/s", out).group(1))


def run_mixed(args, cluster):
    binary = os.path.join(args.build_dir, "bench", "mixed_workload")
    ops = {"sqlite": [], "postgres": []}
    per_agent = []
    for _ in range(args.runs):
        db = cluster.new_database()
        env = dict(os.environ, SPOTOPT_BENCH_PG=f"postgresql:{cluster.keywords(db)}")
        for store in ops:
            ops[store].append(mixed_workload(binary, store, args, env))
            print(f"  mixed_workload {store}: {ops[store][-1]:,.0f} ops/s", flush=True)
        per_agent.append(cluster.bytes(db) / args.agents)
        cluster.drop(db)
    print(f"\nmixed_workload: {args.agents} agents, {args.threads} threads, {args.seconds} s, "
          f"{args.runs} runs")
    for store, values in ops.items():
        print(f"  {store:10s} {summary(values, 'ops/s')}")
    ratio = statistics.median(ops["postgres"]) / statistics.median(ops["sqlite"])
    print(f"  postgres / sqlite: {ratio:.2f}")
    print(f"  bytes per agent in PostgreSQL after the run: {summary(per_agent, 'B')}\n")


def server_mix(args, cluster, store, servers):
    """req/s of the agent mix summed over `servers` processes, and the database's
    bytes per agent (PostgreSQL only)."""
    binary = os.path.join(args.build_dir, "examples", "server", "spotopt-server")
    work = tempfile.mkdtemp(prefix="spotopt-pg-bench-")
    db = cluster.new_database() if store == "postgres" else None
    procs = []
    try:
        for i in range(servers):
            server = BenchServer(binary, workdir=os.path.join(work, str(i)))
            os.makedirs(server.dir)
            # Required with PostgreSQL (no database directory to keep it in).
            server.extra_args = ["--operators", os.path.join(work, "operators")]
            if db:
                server.db = f"postgresql:{cluster.keywords(db)}"
            else:
                server.db = os.path.join(work, "spotopt.db")
            procs.append(server)
        # The first server's CLI creates the tenants; on SQLite, one process only.
        procs[0].start()
        lines = register_all(procs[0], args.tenants, args.server_agents)
        for server in procs[1:]:
            server.start()
        agents_file = os.path.join(work, "agents.txt")
        with open(agents_file, "w") as f:
            f.write("\n".join(lines) + "\n")
        results = [None] * servers

        def load(i):
            results[i] = wrk(procs[i].base, "mix", agents_file, args.seconds,
                             args.connections // servers)

        threads = [threading.Thread(target=load, args=(i,)) for i in range(servers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        non2xx = sum(r[3] for r in results)
        if non2xx:
            sys.exit(f"{store} x{servers}: {non2xx} answers were not 2xx")
        for server in procs:
            server.stop()
        per_agent = cluster.bytes(db) / args.server_agents if db else None
        return sum(r[0] for r in results), max(r[2] for r in results), per_agent
    finally:
        for server in procs:
            server.kill()
        if db:
            cluster.drop(db)
        shutil.rmtree(work, ignore_errors=True)


def run_server(args, cluster):
    setups = (("sqlite", 1), ("postgres", 1), ("postgres", 2))
    rps = {s: [] for s in setups}
    p99 = {s: [] for s in setups}
    per_agent = []
    for _ in range(args.runs):
        for store, servers in setups:
            r, p, b = server_mix(args, cluster, store, servers)
            rps[(store, servers)].append(r)
            p99[(store, servers)].append(p)
            if b is not None:
                per_agent.append(b)
            print(f"  agent mix {store} x{servers}: {r:,.0f} req/s, p99 {p:.1f} ms", flush=True)
    print(f"\nserver agent mix: {args.server_agents} agents, {args.tenants} tenants, "
          f"wrk -t2 -c{args.connections} (split over the servers) -d{args.seconds}s, "
          f"{os.cpu_count()} cores, {args.runs} runs")
    for (store, servers), values in rps.items():
        print(f"  {store:8s} x{servers} {summary(values, 'req/s')}; p99 of the slowest server "
              f"{statistics.median(p99[(store, servers)]):.1f} ms (median of runs)")
    print(f"  bytes per agent in PostgreSQL after the mix: {summary(per_agent, 'B')}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--agents", type=int, default=20000, help="mixed_workload's fleet")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2, help="mixed_workload's threads")
    ap.add_argument("--server-agents", type=int, default=10000)
    ap.add_argument("--tenants", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--skip", choices=("mixed", "server"))
    args = ap.parse_args()
    if args.skip != "server" and not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")
    cluster = Cluster()
    try:
        if args.skip != "mixed":
            run_mixed(args, cluster)
        if args.skip != "server":
            run_server(args, cluster)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
