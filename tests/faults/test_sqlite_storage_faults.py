"""The SQLite equivalent of a database going down under a running server: the file system
holding the database fills up. Uploads get 503 with Retry-After, never 500; the harness spools;
once space is freed the resend lands exactly once. (A read-only remount is refused while the
server holds the database open, so that case cannot be staged here.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from test_harness.upload import spooled_files
from tests.support.faults import count_stored, provision, write_run
from tests.support.live_server import Server

pytestmark = pytest.mark.slow
SITE = "faults-sqlite-disk"


def mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


def sdk_test_upload(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "test_harness.cli", "upload", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_full_disk_under_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    done = mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}); needs root or "
                    "CAP_SYS_ADMIN")
    server = Server(f"sqlite:///{disk / 'dashboard.sqlite'}", tmp_path, workers=2)
    try:
        token = provision(f"sqlite:///{disk / 'dashboard.sqlite'}", [SITE])[SITE]
        spool = tmp_path / "spool"
        env = dict(os.environ, SDK_DASHBOARD_URL=server.url, SDK_DASHBOARD_TOKEN=token, SDK_SPOOL_DIR=str(spool),
                   COLUMNS="400")
        server.start()
        first, n_first = write_run(tmp_path / "results", SITE, tests=5)
        assert sdk_test_upload(env, str(first)).returncode == 0
        sent = n_first
        filler = disk / "filler"
        with filler.open("wb", buffering=0) as fh:  # fill the disk to the last block
            for chunk in (65536, 512, 1):
                try:
                    while fh.write(b"\0" * chunk):
                        pass
                except OSError:
                    pass
        # big enough that SQLite needs new pages, which a full disk cannot give it
        record, n = write_run(tmp_path / "results", SITE, tests=400)
        direct = requests.post(f"{server.url}/api/v1/records", data=record.read_bytes(), timeout=30,
                               headers={"Authorization": f"Bearer {token}",
                                        "Content-Type": "application/x-ndjson"})
        assert direct.status_code == 503, (direct.status_code, direct.text[:300])
        assert direct.headers["Retry-After"] and direct.json()["error"]["code"] == "database_unavailable"
        assert requests.get(f"{server.url}/api/v1/sites/{SITE}/runs", timeout=30).status_code == 200
        down = sdk_test_upload(env, "--retries", "0", str(record))
        assert down.returncode == 75 and [p.name for p in spooled_files(spool)] == [record.name], down.stderr

        filler.unlink()
        resend = sdk_test_upload(env)
        assert resend.returncode == 0 and spooled_files(spool) == [], resend.stdout + resend.stderr
        sent += n
    finally:
        server.stop()
        log = server.log_text()
        stored = count_stored(f"sqlite:///{disk / 'dashboard.sqlite'}")
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)

    statuses = server.statuses()
    with capsys.disabled():
        print(f"\nsqlite disk-full figures: responses {dict(sorted(statuses.items()))}, "
              f"records sent = {sent}, stored = {stored.records}, duplicates = {stored.duplicates}")
    assert stored.records == sent and stored.duplicates == 0 and stored.runs == stored.finished_runs == 2
    assert not [code for code in statuses if code >= 500 and code != 503], statuses
    assert "Traceback" not in log, log[-3000:]
