"""A real gunicorn process on a loopback port: start, migrate, upload, read, restart."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from tests.support.dashboard import make_run
from tests.support.live_server import Server

pytestmark = pytest.mark.slow


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", "from dashboard_server.admin import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_gunicorn_serves_uploads_and_pages(db_url, tmp_path):
    server = Server(db_url, tmp_path, workers=2, start_timeout=30)
    env = server.env
    cli(env, "db", "upgrade", "--create")
    cli(env, "sites", "add", "local-linux", "--facility", "local")
    token = cli(env, "tokens", "issue", "local-linux").splitlines()[-1]
    base = server.url
    server.start()
    try:
        records = make_run(tests={"t": "failed"})
        response = requests.post(f"{base}/api/v1/records", json={"records": records},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, response.text
        assert "status-failed" in requests.get(base + "/", timeout=10).text
        # a body over the limit gets a JSON 413 from the real server too (after the credential)
        big = requests.post(f"{base}/api/v1/records", data=b"x" * (21 * 1024 * 1024),
                            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                            timeout=30)
        assert big.status_code == 413 and big.json()["error"]["code"]
    finally:
        server.kill()
    # after a hard kill and restart everything is still there, exactly once
    server.start()
    try:
        again = requests.post(f"{base}/api/v1/records", json={"records": records},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert again.json() == {"accepted": 0, "duplicates": len(records), "runs": [records[0]["run_id"]]}
    finally:
        server.stop()
    assert token.split(":", 1)[1] not in server.log_text()
