"""The served process (issue #15): a chunked body over the limit is refused whole under real
gunicorn (F4); HTML carries security headers and the documented deployment protects its sync
workers with a timeout and a buffering proxy (F15, configuration tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from dashboard_server.headers import HEADERS
from tests.support.dashboard import make_run, upload
from tests.support.live_server import Server

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "dashboard-operations.md"


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", "from dashboard_server.admin import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def chunks(records: list[dict], size: int):  # type: ignore[no-untyped-def]
    import json

    text = "".join(json.dumps(r) + "\n" for r in records).encode()
    for start in range(0, len(text), size):
        yield text[start:start + size]


@pytest.mark.slow
def test_a_chunked_body_over_the_limit_is_refused_and_stores_nothing(db_url, tmp_path):
    server = Server(db_url, tmp_path, workers=2)
    server.env["SDK_DASHBOARD_MAX_UPLOAD_MB"] = "0.25"
    cli(server.env, "db", "upgrade", "--create")
    cli(server.env, "sites", "add", "local-linux", "--facility", "local")
    token = cli(server.env, "tokens", "issue", "local-linux").splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    server.start()
    try:
        big = make_run(suites={"psij": {f"t{i}": "failed" for i in range(110)}}, output="x" * 3000)
        response = requests.post(f"{server.url}/api/v1/records", data=chunks(big, 8192), headers=headers,
                                 timeout=30)
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "request_entity_too_large"
        runs = requests.get(f"{server.url}/api/v1/sites/local-linux/runs", timeout=10).json()
        assert runs["total"] == 0
        small = make_run(suites={"psij": {f"t{i}": "failed" for i in range(10)}}, output="x" * 3000)
        response = requests.post(f"{server.url}/api/v1/records", data=chunks(small, 8192), headers=headers,
                                 timeout=30)
        assert response.status_code == 200 and response.json()["accepted"] == len(small), response.text
    finally:
        server.stop()
    assert " 500" not in server.log_text()


def test_pages_carry_security_headers(app, client, token):
    upload(client, token, make_run(tests={"t": "failed"}))
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]["id"]
    for path in ("/", "/sites/local-linux", f"/runs/{run}", "/tests/?suite=psij&test=t", "/sites/nowhere"):
        response = client.get(path)
        assert response.mimetype == "text/html", path
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, path
        assert "script-src" not in policy and "unsafe-inline" not in policy, path
        for name, value in HEADERS.items():
            assert response.headers[name] == value, (path, name)
    assert response.headers["X-Frame-Options"] == "DENY"
    for path in ("/api/v1/summary", "/badges/suites/psij.svg", "/static/style.css"):
        with client.get(path) as response:
            assert response.headers["X-Content-Type-Options"] == "nosniff", path


def _block(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_documented_gunicorn_command_sets_a_timeout_behind_a_buffering_proxy():
    text = OPERATIONS.read_text(encoding="utf-8")
    commands = [line for block in _block(text, "console") for line in block.splitlines() if "gunicorn " in line]
    assert commands, "the operations doc shows how to run gunicorn"
    for line in commands:
        timeout = re.search(r"--timeout[ =](\d+)", line)
        assert timeout, f"no --timeout in: {line}"
        assert int(timeout.group(1)) >= 60, "the bulk JUnit figure in docs/benchmarks.md needs it"
    nginx = "\n".join(_block(text, "nginx"))
    assert re.search(r"proxy_request_buffering\s+on;", nginx), "nginx must buffer request bodies"
    assert re.search(r"proxy_buffering\s+on;", nginx), "nginx must buffer responses"
    assert re.search(r"client_body_timeout\s+\d+s;", nginx)
    assert re.search(r"X-Forwarded-For", nginx) and "SDK_DASHBOARD_TRUSTED_PROXIES" in text
