#!/usr/bin/env python3
"""spotopt_host: serves the deployed SpotOptimizer agents from Python, through the
libspotopt binding, on the standard library's threading HTTP server.

Every request under /api/agents/ goes to Controller.handle_http unchanged (method,
path with query, all headers, body) and its answer goes back unchanged (status,
headers, JSON body), so this host answers exactly what spotopt-server answers on the
agent routes. /health answers {"status": "ok"}. A background thread runs the
library's periodic work (tick) every few seconds. Operators use the binding directly
(see README.md); this host has no management API.

usage:
  spotopt_host.py [--db PATH|memory|postgresql://...] [--listen HOST:PORT] [--tick-seconds N]
  spotopt_host.py tenant create NAME [--db PATH]     prints the tenant's agent token

Needs the binding on PYTHONPATH and, from a build tree, SPOTOPT_LIBRARY pointing at
libspotopt.so.0 (bindings/python/README.md).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, Tuple

import spotopt

AGENT_PREFIX = "/api/agents/"
# The library refuses bodies over 256 KiB with 413; reading one byte more than that is
# enough for it to say so, without the host holding a huge body in memory.
BODY_READ_LIMIT = 256 * 1024 + 1


def store_uri(db: str) -> str:
    """--db as the library's store URI: a PostgreSQL URI or keywords pass as they are."""
    if db.startswith(("postgresql:", "postgres://")):
        return db
    return "memory:" if db in ("memory", ":memory:") else f"sqlite:{db}"


def parse_listen(text: str) -> Tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


class Gate:
    """Counts requests inside the library so shutdown can wait for them before the
    controller is closed; idle keep-alive connections do not hold it up."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._active = 0
        self._closing = False

    def enter(self) -> bool:
        with self._cv:
            if self._closing:
                return False
            self._active += 1
            return True

    def leave(self) -> None:
        with self._cv:
            self._active -= 1
            self._cv.notify_all()

    def close(self) -> None:
        with self._cv:
            self._closing = True
            self._cv.wait_for(lambda: self._active == 0)


class AgentServer(ThreadingHTTPServer):
    # Idle keep-alive connections must not hold up shutdown; the Gate waits for the
    # requests that matter, those inside the library.
    daemon_threads = True
    block_on_close = False
    controller: spotopt.Controller
    gate: Gate


def error_body(code: str, message: str) -> bytes:
    """The agent protocol's error shape, for the answers this host gives itself."""
    return json.dumps({"error": code, "message": message}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the agent's connection pool expects
    server_version = "spotopt-python-host"
    server: AgentServer

    def do_GET(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def do_PUT(self) -> None:
        self.dispatch()

    def do_DELETE(self) -> None:
        self.dispatch()

    def do_PATCH(self) -> None:
        self.dispatch()

    def dispatch(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self.read_body()
        if body is None:
            return
        if path.startswith(AGENT_PREFIX):
            self.agent_route(body)
        elif path in ("/health", "/health/"):
            if self.command == "GET":
                self.reply(200, [], b'{"status":"ok"}')
            else:
                self.reply(405, [("Allow", "GET")],
                           error_body("method_not_allowed", "method not allowed"))
        else:
            self.reply(404, [], error_body("not_found", "unknown route"))

    def read_body(self) -> Optional[bytes]:
        text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self.reply(411, [], error_body("length_required", "send a Content-Length"))
            return None
        try:
            length = int(text) if text else 0
            if length < 0:
                raise ValueError(text)
        except ValueError:
            self.close_connection = True
            self.reply(400, [], error_body("invalid_argument", "bad Content-Length"))
            return None
        if length > BODY_READ_LIMIT:
            self.close_connection = True  # the rest of the body stays unread
        return self.rfile.read(min(length, BODY_READ_LIMIT))

    def agent_route(self, body: bytes) -> None:
        if not self.server.gate.enter():
            self.close_connection = True
            self.reply(503, [("Retry-After", "1")], error_body("unavailable", "shutting down"))
            return
        try:
            response = self.server.controller.handle_http(
                self.command, self.path, headers=self.headers.items(), body=body)
        finally:
            self.server.gate.leave()
        self.reply(response.status, response.headers, response.body)

    def reply(self, status: int, headers, body: bytes) -> None:
        self.send_response(status)
        names = {name.lower() for name, _ in headers}
        for name, value in headers:
            self.send_header(name, value)
        if "content-type" not in names:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args) -> None:
        sys.stderr.write(f"{self.address_string()} {fmt % args}\n")


def serve(args: argparse.Namespace) -> int:
    host, port = args.listen
    with spotopt.Controller(store_uri(args.db)) as controller:
        server = AgentServer((host, port), Handler)
        server.controller = controller
        server.gate = Gate()
        stop = threading.Event()

        def ticker() -> None:
            # The library starts no threads: periodic work is the host's job.
            while not stop.wait(args.tick_seconds):
                try:
                    controller.tick()
                except spotopt.SpotoptError as e:
                    sys.stderr.write(f"tick failed: {e}\n")

        def on_signal(signum, _frame) -> None:
            # shutdown() waits for serve_forever to return: not from its own thread.
            threading.Thread(target=server.shutdown).start()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        tick_thread = threading.Thread(target=ticker)
        tick_thread.start()
        sys.stderr.write(f"spotopt_host: serving {args.db} on {host}:{port} "
                         f"(libspotopt {spotopt.version()})\n")
        try:
            server.serve_forever()
        finally:
            stop.set()
            tick_thread.join()
            server.server_close()
            server.gate.close()  # every request inside the library has answered
        sys.stderr.write("spotopt_host: stopped\n")
    return 0


def create_tenant(args: argparse.Namespace, name: str) -> int:
    if store_uri(args.db) == "memory:":
        sys.stderr.write("spotopt_host: a tenant in memory would vanish; give --db PATH\n")
        return 2
    with spotopt.Controller(store_uri(args.db)) as controller:
        _, token = controller.create_tenant(name)
    print(token)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="*", help='nothing to serve, or "tenant create NAME"')
    parser.add_argument("--db", default="spotopt.db",
                        help='SQLite database file, or "memory" (default: spotopt.db)')
    parser.add_argument("--listen", type=parse_listen, default=("127.0.0.1", 5000),
                        help="address to serve on (default: 127.0.0.1:5000)")
    parser.add_argument("--tick-seconds", type=float, default=5.0,
                        help="how often to run the periodic work (default: 5)")
    args = parser.parse_args(argv)
    if not args.command:
        return serve(args)
    if len(args.command) != 3 or args.command[:2] != ["tenant", "create"]:
        parser.error(f"unknown command: {' '.join(args.command)}")
    return create_tenant(args, args.command[2])


if __name__ == "__main__":
    sys.exit(main())
