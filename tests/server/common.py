"""Shared helpers for the host tests: find the host, run it on a free loopback port
with a temp database, and use its CLI. Hosts: spotopt-server, and the Python host of
examples/python_host, which takes the same --db/--listen options and the same
"tenant create NAME" command."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests


def find_binary():
    """The binary from argv[1] (ctest passes it), else SPOTOPT_SERVER."""
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SPOTOPT_SERVER", "")
    if not path or not os.access(path, os.X_OK):
        sys.exit("usage: test.py PATH/TO/spotopt-server")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One spotopt-server process over a database in a temp directory."""

    def __init__(self, binary, workdir=None, threads=None, extra_args=()):
        self.binary = binary
        self.extra_args = list(extra_args)
        self.command = [binary]
        self.dir = workdir or tempfile.mkdtemp(prefix="spotopt-server-test-")
        self.db = os.path.join(self.dir, "spotopt.db")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.threads = threads
        self.proc = None
        self.log = None

    def cli(self, *args):
        out = subprocess.run([*self.command, *args, "--db", self.db], check=True,
                             capture_output=True, text=True, timeout=30)
        return out.stdout.strip()

    def serve_command(self):
        cmd = [*self.command, "--db", self.db, "--listen", f"127.0.0.1:{self.port}",
               "--log-level", "debug"]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        return cmd + self.extra_args

    def start(self):
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(self.serve_command(), stderr=self.log, stdout=self.log)
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

    def stop(self, timeout=10):
        """SIGTERM; returns (exit code, seconds it took)."""
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self.log.close()
        return code, time.monotonic() - began

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class PythonHost(Server):
    """examples/python_host/spotopt_host.py under this Python; the binding must be
    importable (PYTHONPATH, SPOTOPT_LIBRARY)."""

    def __init__(self, script, workdir=None):
        super().__init__(script, workdir)
        self.command = [sys.executable, script]

    def serve_command(self):
        return [*self.command, "--db", self.db, "--listen", f"127.0.0.1:{self.port}"]


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
