#!/usr/bin/env python3
"""Calls per second of heartbeat and an empty command poll on MemoryStore through the
C++ Controller, the C ABI and the Python binding, in one run, with the ratios to C++.

The C++ and C figures come from abi_bench (Google Benchmark, CPU time); the Python
figure from this process, calling the binding the way a host would: ids passed as
bytes, the same agents in the same random order, the same heartbeat fields. Each
figure is the best of several repetitions, the C++ and C ones randomly interleaved:
other load on the machine only ever slows a repetition down, so the best one is the
closest to the code's own cost.
Targets (issue 5): the C ABI at most 20% slower than C++; Python at least 50,000
heartbeats/s. Exits 1 if a target is missed.

Usage: bench/abi/run_bench.py BUILD_DIR [--seconds 0.5] [--repetitions 8]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AGENTS = 1000  # as abi_bench's kAgents
C_ABI_MIN_RATIO = 0.8
PYTHON_MIN_HEARTBEATS = 50_000


def native(build_dir, seconds, repetitions):
    """The best items_per_second of each abi_bench benchmark, by name."""
    out = subprocess.run([os.path.join(build_dir, "bench", "abi", "abi_bench"),
                          "--benchmark_format=json", f"--benchmark_min_time={seconds}",
                          f"--benchmark_repetitions={repetitions}",
                          "--benchmark_enable_random_interleaving=true"],
                         check=True, capture_output=True, text=True).stdout
    best = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") == "iteration":
            name = b["name"].split("/")[0]
            best[name] = max(best.get(name, 0), b["items_per_second"])
    return best


def python_rates(seconds, repetitions):
    import spotopt  # after SPOTOPT_LIBRARY is set

    c = spotopt.Controller("memory:")
    tenant, token = c.create_tenant("bench")
    agents = []
    for i in range(AGENTS):
        instance, az = f"i-{0x5eed0000 + i:017x}", f"us-east-1{'abc'[i % 3]}"
        body = json.dumps({"instance_id": instance, "logical_agent_id": f"svc-{i:06d}",
                           "region": "us-east-1", "instance_type": "m5.large", "az": az,
                           "mode": "spot"}).encode()
        r = c.handle_http("POST", "/api/agents/register",
                          headers=[("Authorization", f"Bearer {token}")], body=body)
        assert r.status == 201, r
        agents.append((json.loads(r.body)["agent_id"].encode(), instance.encode(), az.encode()))
    rng = random.Random(42)
    order = [agents[rng.randrange(AGENTS)] for _ in range(10_000)]
    t = tenant.encode()

    def heartbeats():
        heartbeat = c.heartbeat
        for reg, instance, az in order:
            heartbeat(t, reg, b"online", instance, b"m5.large", az)

    def polls():
        poll = c.poll_command
        for reg, _, _ in order:
            if poll(t, reg) is not None:
                raise AssertionError("an idle agent got a command")

    def rate(batch):
        calls, start = 0, time.process_time()
        while time.process_time() - start < seconds:
            batch()
            calls += len(order)
        return calls / (time.process_time() - start)

    rates = {"heartbeat": max(rate(heartbeats) for _ in range(repetitions)),
             "poll_empty": max(rate(polls) for _ in range(repetitions))}
    c.close()
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("--seconds", type=float, default=0.5, help="per repetition")
    parser.add_argument("--repetitions", type=int, default=8)
    args = parser.parse_args()
    build_dir = os.path.abspath(args.build_dir)
    os.environ["SPOTOPT_LIBRARY"] = os.path.join(build_dir, "src", "libspotopt.so.0")
    sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))

    rates = native(build_dir, args.seconds, args.repetitions)
    py = python_rates(args.seconds, args.repetitions)
    rows = [("heartbeat", rates["BM_Heartbeat_Cpp"], rates["BM_Heartbeat_C"], py["heartbeat"]),
            ("poll (empty)", rates["BM_PollEmpty_Cpp"], rates["BM_PollEmpty_C"],
             py["poll_empty"])]
    print(f"{'call':<14}{'C++ calls/s':>14}{'C ABI calls/s':>16}{'C ABI/C++':>11}"
          f"{'Python calls/s':>17}{'Python/C++':>12}")
    ok = True
    for name, cpp, c_abi, python in rows:
        print(f"{name:<14}{cpp:>14,.0f}{c_abi:>16,.0f}{c_abi / cpp:>11.2f}"
              f"{python:>17,.0f}{python / cpp:>12.2f}")
        ok &= c_abi / cpp >= C_ABI_MIN_RATIO
    ok &= rows[0][3] >= PYTHON_MIN_HEARTBEATS
    print(f"targets: C ABI/C++ >= {C_ABI_MIN_RATIO}, Python heartbeats >= "
          f"{PYTHON_MIN_HEARTBEATS:,}/s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
