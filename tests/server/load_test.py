"""Load safety: 200 concurrent connections send malformed, oversized and slow
requests while well-behaved agents keep heartbeating and polling. Every good
request must get its 200; afterwards the server stops cleanly on SIGTERM and the
database passes PRAGMA integrity_check. Bounded to about 20 s.

Usage: python3 load_test.py PATH/TO/spotopt-server
"""
import random
import socket
import sqlite3
import sys
import threading
import time

import requests

from common import Server, bearer, find_binary

ATTACKERS = 180
GOOD_CLIENTS = 20
DURATION = 20.0  # the issue asks for 20 s of hostile load


def recv_status(sock):
    """The status code of the first response on `sock`, or None if it closed first."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
    except OSError:
        return None
    return int(data.split(b" ", 2)[1])


def attack(port, agent_id, token, deadline, outcomes, lock):
    rng = random.Random()
    while time.monotonic() < deadline:
        kind = rng.choice(["garbage", "bad_json", "huge_body", "huge_headers", "slow"])
        got = None
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                if kind == "garbage":
                    s.sendall(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
                    got = recv_status(s)
                elif kind == "bad_json":
                    body = b'{"status": "online",'
                    s.sendall(b"POST /api/agents/%s/heartbeat HTTP/1.1\r\nHost: x\r\n"
                              b"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s"
                              % (agent_id.encode(), token.encode(), len(body), body))
                    got = recv_status(s)
                elif kind == "huge_body":
                    s.sendall(b"POST /api/agents/%s/heartbeat HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: 50000000\r\n\r\n" % agent_id.encode())
                    try:  # the server answers 413 long before this is all sent
                        for _ in range(64):
                            s.sendall(b"x" * 65536)
                    except OSError:
                        pass
                    got = recv_status(s)
                elif kind == "huge_headers":
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40000 +
                              b"\r\n\r\n")
                    got = recv_status(s)
                else:  # slow: a header a byte at a time, then give up
                    s.settimeout(1)
                    for byte in b"GET /health HTTP/1.1\r\nHost: x\r\n":
                        if time.monotonic() > deadline:
                            break
                        s.sendall(bytes([byte]))
                        time.sleep(0.25)
        except OSError:
            got = "oserror"
        with lock:
            outcomes.setdefault((kind, got), 0)
            outcomes[(kind, got)] += 1


def good_client(base, agent_id, token, deadline, stats, lock):
    s = requests.Session()
    h = bearer(token)
    ok = bad = 0
    worst = 0.0
    while time.monotonic() < deadline:
        for method, path, body in (
                ("POST", f"/api/agents/{agent_id}/heartbeat", {"status": "online"}),
                ("GET", f"/api/agents/{agent_id}/pending-commands", None),
                ("GET", f"/api/agents/{agent_id}/config", None)):
            began = time.monotonic()
            try:
                r = s.request(method, base + path, json=body, headers=h, timeout=10)
                good = r.status_code == 200
            except requests.RequestException:
                good = False
            worst = max(worst, time.monotonic() - began)
            ok += good
            bad += not good
    with lock:
        stats["ok"] += ok
        stats["bad"] += bad
        stats["worst"] = max(stats["worst"], worst)


def main():
    server = Server(find_binary())
    try:
        token = server.cli("tenant", "create", "load")
        server.start()
        agent_ids = []
        for i in range(GOOD_CLIENTS):
            r = requests.post(f"{server.base}/api/agents/register", headers=bearer(token),
                              json={"instance_id": f"i-{i:017x}", "region": "us-east-1",
                                    "logical_agent_id": f"load-{i}"})
            assert r.status_code == 201, r.text
            agent_ids.append(r.json()["agent_id"])

        deadline = time.monotonic() + DURATION
        lock = threading.Lock()
        outcomes, stats = {}, {"ok": 0, "bad": 0, "worst": 0.0}
        threads = [threading.Thread(target=attack, args=(server.port, agent_ids[i % GOOD_CLIENTS],
                                                         token, deadline, outcomes, lock))
                   for i in range(ATTACKERS)]
        threads += [threading.Thread(target=good_client, args=(server.base, agent_ids[i], token,
                                                               deadline, stats, lock))
                    for i in range(GOOD_CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        for (kind, got), n in sorted(outcomes.items(), key=str):
            print(f"  attack {kind:13s} -> {got}: {n}")
        print(f"  good requests: {stats['ok']} ok, {stats['bad']} failed, "
              f"slowest {stats['worst'] * 1000:.0f} ms")
        assert stats["bad"] == 0 and stats["ok"] > 0, stats
        # Refusals are the documented ones, never a 5xx.
        allowed = {"garbage": {400, None, "oserror"}, "bad_json": {400},
                   "huge_body": {413, None, "oserror"}, "huge_headers": {431, None, "oserror"},
                   "slow": {None, "oserror"}}
        for (kind, got), _ in outcomes.items():
            assert got in allowed[kind], (kind, got)
        assert outcomes.get(("huge_body", 413), 0) > 0, outcomes
        assert outcomes.get(("huge_headers", 431), 0) > 0, outcomes

        assert requests.get(f"{server.base}/health", timeout=5).status_code == 200
        code, took = server.stop()
        assert code == 0 and took < 5, (code, took)
        with sqlite3.connect(server.db) as db:
            result = db.execute("PRAGMA integrity_check").fetchall()
        assert result == [("ok",)], result
    finally:
        server.kill()
    print("load ok")


if __name__ == "__main__":
    sys.exit(main())
