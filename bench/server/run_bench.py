#!/usr/bin/env python3
"""wrk against spotopt-server (heartbeat and command poll over many registrations)
and against the bare Beast baseline; prints throughput, p50/p99 and ours/baseline.
Builds nothing: pass the build directory that has both binaries.

Usage: bench/server/run_bench.py BUILD_DIR [--agents 2000] [--tenants 4]
       [--seconds 10] [--connections 64]
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "server"))
from common import Server, bearer, free_port  # noqa: E402


def wrk(url, route, agents_file, seconds, connections):
    env = dict(os.environ, ROUTE=route, AGENTS_FILE=agents_file)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", os.path.join(HERE, "agents.lua"), url],
                         env=env, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, pct(50), pct(99), int(non2xx.group(1)) if non2xx else 0


def register_all(server, tenants, agents):
    """Creates tenants over the CLI and registers agents over HTTP; returns lines."""
    tokens = [server.cli("tenant", "create", f"bench-{t}") for t in range(tenants)]

    def register(i):
        token = tokens[i % tenants]
        with requests.Session() as s:
            r = s.post(f"{server.base}/api/agents/register", headers=bearer(token),
                       json={"instance_id": f"i-{i:017x}", "region": "us-east-1",
                             "logical_agent_id": f"bench-{i}", "instance_type": "m5.large",
                             "az": "us-east-1a", "mode": "spot"})
            r.raise_for_status()
            return f"{token} {r.json()['agent_id']}"

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        return list(pool.map(register, range(agents)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--agents", type=int, default=2000)
    ap.add_argument("--tenants", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")
    server_bin = os.path.join(args.build_dir, "examples/server/spotopt-server")
    baseline_bin = os.path.join(args.build_dir, "examples/server/spotopt-baseline-server")

    work = tempfile.mkdtemp(prefix="spotopt-bench-")
    server = Server(server_bin, workdir=work)
    results = {}
    try:
        server.start()
        began = time.monotonic()
        lines = register_all(server, args.tenants, args.agents)
        print(f"registered {len(lines)} agents across {args.tenants} tenants "
              f"in {time.monotonic() - began:.1f} s")
        agents_file = os.path.join(work, "agents.txt")
        with open(agents_file, "w") as f:
            f.write("\n".join(lines) + "\n")
        for route in ("heartbeat", "poll"):
            results[route] = wrk(server.base, route, agents_file, args.seconds, args.connections)
        server.stop()

        port = free_port()
        baseline = subprocess.Popen([baseline_bin, str(port)])
        try:
            time.sleep(0.3)
            results["baseline"] = wrk(f"http://127.0.0.1:{port}", "fixed", agents_file,
                                      args.seconds, args.connections)
        finally:
            baseline.terminate()
            baseline.wait()
    finally:
        server.kill()

    base_rps = results["baseline"][0]
    print(f"\nwrk -t2 -c{args.connections} -d{args.seconds}s, {os.cpu_count()} cores, "
          f"{args.agents} registrations")
    print(f"{'target':28s} {'req/s':>10s} {'p50 ms':>8s} {'p99 ms':>8s} {'non-2xx':>8s} "
          f"{'vs baseline':>11s}")
    names = {"heartbeat": "spotopt-server heartbeat", "poll": "spotopt-server poll",
             "baseline": "baseline (fixed 200)"}
    for key in ("heartbeat", "poll", "baseline"):
        rps, p50, p99, non2xx = results[key]
        print(f"{names[key]:28s} {rps:10.0f} {p50:8.2f} {p99:8.2f} {non2xx:8d} "
              f"{rps / base_rps:10.1%}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
