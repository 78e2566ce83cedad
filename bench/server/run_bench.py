#!/usr/bin/env python3
"""spotopt-server against a bare Beast baseline, in one run so that the ratio holds
whatever else the machine is doing.

1. Registers a fleet (default 10,000 agents over 5 tenants, distinct ids).
2. Throughput: wrk at full speed on heartbeat, command poll and the agent's request
   mix (agents.lua): req/s, p50, p99, ratio to the baseline and to the heartbeat.
3. Latency at a constant rate (default 20,000 req/s; 0 skips it) on the same routes:
   spotopt-rate-client, since Debian's wrk has no rate limit. Latency counts from
   when each request was due, so a stall is not hidden by the client slowing down.
4. Steps 2 and 3 for the pricing report alone, which floods the store (FLOOD below).
5. Steps 2 and 3 on the baseline server (fixed 200 body).

Builds nothing: pass the build directory that has spotopt-server,
spotopt-baseline-server and spotopt-rate-client.

Usage: bench/server/run_bench.py BUILD_DIR [--agents 10000] [--tenants 5]
       [--seconds 10] [--connections 64] [--rate 20000] [--rate-seconds 10]
       [--server-args "--threads 1"]
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "server"))
from common import Server, bearer, free_port  # noqa: E402

ROUTES = ("heartbeat", "poll", "mix", "pricing")
# The pricing route is measured last, at full speed and then paced: it adds about
# 80,000 price rows a second, where 10,000 agents send 33 reports a second. What that
# leaves behind (a price table 50 times a fleet's, which the first fleet decision run
# then reads, a long WAL to write and checkpoint) is not what the other routes meet
# in a fleet, so they are measured before it.
FLOOD = ("pricing",)


class BenchServer(Server):
    """The test harness's server, logging at info: debug writes a line per request."""

    extra_args = ()

    def start(self):
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--db", self.db, "--listen", f"127.0.0.1:{self.port}",
             "--log-level", "info", *self.extra_args], stderr=self.log, stdout=self.log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.dir}")
            try:
                if requests.get(self.base + "/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("server did not become healthy")


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


def rate_client(binary, port, route, agents_file, rate, seconds, connections):
    out = subprocess.run([binary, str(port), agents_file, route, str(rate), str(seconds),
                          str(connections)], capture_output=True, text=True, check=True).stdout
    fields = dict(kv.split("=") for kv in out.split())
    by_call = {k[:-len("_p99_ms")]: float(v) for k, v in fields.items() if k.endswith("_p99_ms")
               and k != "p99_ms"}
    return (float(fields["rate"]), float(fields["p50_ms"]), float(fields["p99_ms"]),
            int(fields["errors"]), float(fields["max_ms"]), by_call)


def register_all(server, tenants, agents):
    """Creates tenants over the CLI and registers agents over HTTP; returns lines."""
    tokens = [server.cli("tenant", "create", f"bench-{t}") for t in range(tenants)]
    local = threading.local()

    def register(i):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        token = tokens[i % tenants]
        r = local.session.post(
            f"{server.base}/api/agents/register", headers=bearer(token),
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
    ap.add_argument("--agents", type=int, default=10000)
    ap.add_argument("--tenants", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rate", type=int, default=20000)
    ap.add_argument("--rate-seconds", type=int, default=10)
    ap.add_argument("--server-args", default="",
                    help='more spotopt-server options, e.g. "--threads 1"')
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")
    bins = os.path.join(args.build_dir, "examples/server")
    server_bin = os.path.join(bins, "spotopt-server")
    baseline_bin = os.path.join(bins, "spotopt-baseline-server")
    rate_bin = os.path.join(bins, "spotopt-rate-client")

    work = tempfile.mkdtemp(prefix="spotopt-bench-")
    server = BenchServer(server_bin, workdir=work)
    server.extra_args = args.server_args.split()
    full, paced = {}, {}
    try:
        server.start()
        began = time.monotonic()
        lines = register_all(server, args.tenants, args.agents)
        print(f"registered {len(lines)} agents across {args.tenants} tenants "
              f"in {time.monotonic() - began:.1f} s")
        agents_file = os.path.join(work, "agents.txt")
        with open(agents_file, "w") as f:
            f.write("\n".join(lines) + "\n")
        for group in ([r for r in ROUTES if r not in FLOOD], FLOOD):
            for route in group:
                full[route] = wrk(server.base, route, agents_file, args.seconds, args.connections)
            for route in group if args.rate else ():
                paced[route] = rate_client(rate_bin, server.port, route, agents_file, args.rate,
                                           args.rate_seconds, args.connections)
        server.stop()

        port = free_port()
        baseline = subprocess.Popen([baseline_bin, str(port)])
        try:
            time.sleep(0.3)
            full["baseline"] = wrk(f"http://127.0.0.1:{port}", "fixed", agents_file,
                                   args.seconds, args.connections)
            if args.rate:
                paced["baseline"] = rate_client(rate_bin, port, "fixed", agents_file,
                                                args.rate, args.rate_seconds, args.connections)
        finally:
            baseline.terminate()
            baseline.wait()
    finally:
        server.kill()

    names = {"heartbeat": "spotopt-server heartbeat", "poll": "spotopt-server poll",
             "pricing": "spotopt-server pricing-report", "mix": "spotopt-server agent mix", "baseline": "baseline (fixed 200)"}
    base_rps, beat_rps = full["baseline"][0], full["heartbeat"][0]
    print(f"\nthroughput: wrk -t2 -c{args.connections} -d{args.seconds}s, {os.cpu_count()} "
          f"cores, {args.agents} registrations, {args.tenants} tenants")
    print(f"{'target':30s} {'req/s':>10s} {'p50 ms':>8s} {'p99 ms':>8s} {'non-2xx':>8s} "
          f"{'vs baseline':>11s} {'vs heartbeat':>12s}")
    for key in (*ROUTES, "baseline"):
        rps, p50, p99, non2xx = full[key]
        print(f"{names[key]:30s} {rps:10.0f} {p50:8.2f} {p99:8.2f} {non2xx:8d} "
              f"{rps / base_rps:11.1%} {rps / beat_rps:12.1%}")
    if not args.rate:
        shutil.rmtree(work, ignore_errors=True)
        return
    print(f"\nlatency at a constant {args.rate} req/s: spotopt-rate-client, "
          f"{args.connections} connections, {args.rate_seconds}s")
    print(f"{'target':30s} {'req/s':>10s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} "
          f"{'errors':>8s}")
    for key in (*ROUTES, "baseline"):
        rps, p50, p99, errors, max_ms, _ = paced[key]
        print(f"{names[key]:30s} {rps:10.0f} {p50:8.2f} {p99:8.2f} {max_ms:8.1f} {errors:8d}")
    by_call = paced["mix"][5]
    print("agent mix, p99 ms by call: " + ", ".join(f"{k} {v:.2f}" for k, v in by_call.items()))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
