"""A real dashboard process for the tests that need one: ``gunicorn 'dashboard_server:create_app()'``
on a loopback port, started, killed and restarted at the same address."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import requests

ACCESS_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) (\d{3})$", re.M)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Server:
    """``gunicorn 'dashboard_server:create_app()'`` on a fixed loopback port, so it can be killed
    and started again at the same address. It runs in its own session: ``kill()`` SIGKILLs the
    master and every worker at once, as a lost node or an OOM kill would."""

    def __init__(self, db_url: str, workdir: Path, workers: int = 2, start_timeout: float = 40) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "gunicorn.log"
        self.workers = workers
        self.start_timeout = start_timeout
        self.env = dict(os.environ, SDK_DASHBOARD_DATABASE_URL=db_url, SDK_DASHBOARD_SECRET_KEY="live-server")
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                   "--timeout", "30", "--graceful-timeout", "5", "--access-logfile", "-",
                   "--access-logformat", "%(m)s %(U)s %(s)s", "dashboard_server:create_app()"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=3).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"gunicorn did not come up:\n{self.log.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        if self.proc is not None:
            signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            self.kill()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def statuses(self) -> Counter[int]:
        """HTTP status of every response the server sent, from the access log."""
        return Counter(int(m.group(3)) for m in ACCESS_LINE.finditer(self.log_text()))
