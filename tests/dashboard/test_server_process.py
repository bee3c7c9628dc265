"""A real gunicorn process on a loopback port: start, migrate, upload, read, restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from dashboard_helpers import make_run

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "30",
         "dashboard_server:create_app()"],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=3).status_code == 200:
                return process
        except requests.RequestException:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"gunicorn did not come up:\n{log.read_text()[-3000:]}")


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", "from dashboard_server.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_gunicorn_serves_uploads_and_pages(db_url, tmp_path):
    env = dict(os.environ, SDK_DASHBOARD_DATABASE_URL=db_url)
    cli(env, "db", "upgrade")
    cli(env, "sites", "add", "local-linux", "--facility", "local")
    token = cli(env, "tokens", "issue", "local-linux").splitlines()[-1]
    port, log = free_port(), tmp_path / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(env, port, log)
    try:
        records = make_run(tests={"t": "failed"})
        response = requests.post(f"{base}/api/v1/records", json={"records": records},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, response.text
        assert "status-failed" in requests.get(base + "/", timeout=10).text
        # a body over the limit gets a JSON 413 from the real server too
        big = requests.post(f"{base}/api/v1/records", data=b"x" * (21 * 1024 * 1024),
                            headers={"Content-Type": "application/json"}, timeout=30)
        assert big.status_code == 413 and big.json()["error"]["code"]
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    # after a hard kill and restart everything is still there, exactly once
    server = start_gunicorn(env, port, log)
    try:
        again = requests.post(f"{base}/api/v1/records", json={"records": records},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert again.json() == {"accepted": 0, "duplicates": len(records), "runs": [records[0]["run_id"]]}
    finally:
        server.terminate()
        server.wait(10)
    assert token.split(":", 1)[1] not in log.read_text()
