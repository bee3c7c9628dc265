"""Database down while the server runs: PostgreSQL is stopped under a live gunicorn. Every
endpoint answers 503 with Retry-After (never 500), ``sdk-test upload`` spools, and after the
database is back a plain ``sdk-test upload`` resends the spool: each record arrives once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from test_harness.upload import State, UploadSettings, spooled_files, upload
from tests.support.faults import Postgres, count_stored, postgres_bin, provision, write_run
from tests.support.live_server import Server

SITE = "faults-db-site"


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    if postgres_bin() is None:
        pytest.skip("PostgreSQL binaries (pg_ctl) not found; install postgresql or set PGBIN")
    if os.geteuid() == 0 and subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
        pytest.skip("running as root needs a 'postgres' user to own the cluster")
    cluster = Postgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def sdk_test(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "test_harness.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.postgres
def test_database_stopped_under_a_running_server(postgres: Postgres, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    token = provision(postgres.url, [SITE])[SITE]
    before, n_before = write_run(tmp_path / "results", SITE, tests=5)
    during = [write_run(tmp_path / "results", SITE, tests=8) for _ in range(2)]
    spool = tmp_path / "spool"
    env = dict(os.environ, SDK_DASHBOARD_URL="", SDK_DASHBOARD_TOKEN=token, SDK_SPOOL_DIR=str(spool),
               COLUMNS="400")
    server = Server(postgres.url, tmp_path)
    env["SDK_DASHBOARD_URL"] = server.url
    auth = {"Authorization": f"Bearer {token}"}
    server.start()
    try:
        assert sdk_test(env, "upload", str(before)).returncode == 0

        postgres.stop("fast")
        refused = 0
        for _ in range(3):  # several rounds: both workers, pooled connections that went dead
            responses = {
                "health": requests.get(f"{server.url}/api/v1/health", timeout=20),
                "summary": requests.get(f"{server.url}/api/v1/summary", timeout=20),
                "page": requests.get(f"{server.url}/", timeout=20),
                "site page": requests.get(f"{server.url}/sites/{SITE}", timeout=20),
                "records": requests.post(f"{server.url}/api/v1/records", data=during[0][0].read_bytes(),
                                         headers={**auth, "Content-Type": "application/x-ndjson"}, timeout=20),
                "junit": requests.post(f"{server.url}/api/v1/junit?run_id=junit-run-1", headers=auth, timeout=20,
                                       data=b'<testsuite name="s"><testcase name="t"/></testsuite>'),
                "legacy": requests.post(f"{server.url}/result", timeout=20,
                                        json={"id": SITE, "key": token, "data": {"module": "m"}}),
            }
            for name, response in responses.items():
                assert response.status_code == 503, (name, response.status_code, response.text[:300])
                assert int(response.headers["Retry-After"]) > 0, name
                if name == "page" or name == "site page":
                    assert response.headers["Content-Type"].startswith("text/html"), name
                else:
                    assert response.json()["error"]["code"] == "database_unavailable", name
                refused += 1

        # the harness keeps the records: exit 75 (EX_TEMPFAIL), files spooled, originals untouched
        down = sdk_test(env, "upload", "--retries", "0", *(str(p) for p, _ in during))
        assert down.returncode == 75, down.stderr
        assert "spooled" in down.stderr, down.stderr
        assert sorted(p.name for p in spooled_files(spool)) == sorted(p.name for p, _ in during)
        assert all(p.exists() for p, _ in during)

        postgres.start()
        deadline = time.monotonic() + 30
        while requests.get(f"{server.url}/api/v1/health", timeout=20).status_code != 200:
            assert time.monotonic() < deadline, "the server did not reconnect to the restarted database"
            time.sleep(0.2)
        resend = sdk_test(env, "upload")  # no files: resend the spool
        assert resend.returncode == 0, resend.stdout + resend.stderr
        assert spooled_files(spool) == []
        # resending again finds everything already there
        again = sdk_test(env, "upload", *(str(p) for p, _ in during))
        assert again.returncode == 0 and "0 accepted" in again.stdout, again.stdout
    finally:
        server.stop()

    sent = n_before + sum(n for _, n in during)
    stored = count_stored(postgres.url)
    statuses = server.statuses()
    with capsys.disabled():
        print(f"\ndatabase-down figures: requests refused with 503 = {refused}, responses = "
              f"{dict(sorted(statuses.items()))}, records sent = {sent}, records stored = {stored.records}, "
              f"duplicates = {stored.duplicates}")
    assert stored.records == sent and stored.duplicates == 0
    assert stored.runs == stored.finished_runs == 3
    assert not [code for code in statuses if code >= 500 and code != 503], statuses
    assert "Traceback" not in server.log_text() and "unhandled error" not in server.log_text()


class _Unavailable(BaseHTTPRequestHandler):
    """Answers every upload as the dashboard does while its database is down."""

    posts = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).posts += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"error": {"code": "database_unavailable", "message": "retry later", "details": null}}'
        self.send_response(503)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_failing_dashboard_is_not_retried_for_every_spooled_file(tmp_path: Path) -> None:
    """Each request waits out Retry-After on every retry; once one file could not be delivered,
    the rest go to the spool untried, so a long spool does not multiply the wait."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        files = [write_run(tmp_path / "results", SITE, tests=2)[0] for _ in range(4)]
        settings = UploadSettings(url=f"http://127.0.0.1:{server.server_port}", token="0123456789ab:x",
                                  spool_dir=tmp_path / "spool", retries=1, backoff=0, timeout=10)
        began = time.monotonic()
        outcomes = upload(files, settings)
        elapsed = time.monotonic() - began
    finally:
        server.shutdown()
        server.server_close()
    assert [o.state for o in outcomes] == [State.SPOOLED] * 4
    assert sorted(p.name for p in spooled_files(tmp_path / "spool")) == sorted(p.name for p in files)
    assert _Unavailable.posts == 2, "only the first file is tried (once, plus one retry after Retry-After)"
    assert "not tried" in outcomes[-1].detail and files[0].name in outcomes[-1].detail
    assert elapsed < 10, elapsed
