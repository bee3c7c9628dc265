"""Interrupted harness: a real ``sdk-test run`` SIGKILLed halfway leaves a record file without
RunFinish. Uploaded, it is an unfinished run, and the API and the pages say so; never 'passed'."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from exaworks_sdk.records import RunStart, Status, TestResult, read_records
from tests.support.faults import provision
from tests.support.live_server import Server, signal_group

pytestmark = pytest.mark.slow
SITE = "faults-interrupted"
DRIVER = Path(__file__).parent / "fixtures" / "sdk_test_fixture_suite.py"
QUICK_TESTS = 5


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_for_lines(results: Path, count: int, harness: subprocess.Popen[bytes], timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = list(results.glob("*.jsonl"))
        if files and len(files[0].read_bytes().splitlines()) >= count:
            return files[0]
        assert harness.poll() is None, "the harness ended before it could be interrupted"
        time.sleep(0.1)
    raise AssertionError(f"no record file with {count} lines in {results} after {timeout} s")


def test_killed_harness_uploads_as_an_unfinished_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_url = f"sqlite:///{tmp_path / 'dashboard.sqlite'}"
    token = provision(db_url, [SITE])[SITE]
    results = tmp_path / "results"
    env = dict(os.environ, SDK_DASHBOARD_TOKEN=token, SDK_SPOOL_DIR=str(tmp_path / "spool"), COLUMNS="400")
    log = (tmp_path / "harness.log").open("wb")
    harness = subprocess.Popen(
        [sys.executable, str(DRIVER), "run", "--results-dir", str(results), "--site", SITE, "--no-junit",
         "-j", "1"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True)
    suites: list[int] = []
    try:
        record_file = wait_for_lines(results, 1 + QUICK_TESTS, harness)
        suites = children(harness.pid)  # the suite's pytest runs in a session of its own
        signal_group(harness.pid, signal.SIGKILL)
        assert harness.wait(timeout=10) == -signal.SIGKILL
    finally:
        signal_group(harness.pid, signal.SIGKILL)
        for pid in suites:
            signal_group(pid, signal.SIGKILL)
        log.close()

    lines = [json.loads(line) for line in record_file.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["run_start"] + ["test_result"] * QUICK_TESTS, "no run_finish"
    records = list(read_records(record_file))
    assert isinstance(records[0], RunStart) and records[0].site == SITE
    assert all(r.status is Status.PASSED for r in records if isinstance(r, TestResult))

    server = Server(db_url, tmp_path, workers=1)
    server.env["SDK_DASHBOARD_EXTRA_SUITES"] = "halfway"  # the fixture's registry: a column of its own
    env["SDK_DASHBOARD_URL"] = server.url
    server.start()
    try:
        sent = subprocess.run([sys.executable, "-m", "test_harness.cli", "upload", str(record_file)], env=env,
                              capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        run = requests.get(f"{server.url}/api/v1/sites/{SITE}/runs", timeout=10).json()["runs"][0]
        detail = requests.get(f"{server.url}/api/v1/runs/{run['id']}", timeout=10).json()
        summary = requests.get(f"{server.url}/api/v1/summary", timeout=10).json()
        cell = next(c for row in summary["rows"] for c in row["cells"].values())
        run_page = requests.get(f"{server.url}/runs/{run['id']}", timeout=10).text
        site_page = requests.get(f"{server.url}/sites/{SITE}", timeout=10).text
        summary_page = requests.get(f"{server.url}/", timeout=10).text
    finally:
        server.stop()

    with capsys.disabled():
        print(f"\ninterrupted-harness figures: records in the file = {len(lines)} (no run_finish), "
              f"run status = {run['status']}, summary cell = {cell['status']}, "
              f"tests stored = {len(detail['tests'])}")
    assert run["status"] == detail["status"] == cell["status"] == "unfinished"
    assert run["finished_at"] is None and detail["finished_at"] is None
    assert len(detail["tests"]) == QUICK_TESTS and run["counts"]["passed"] == QUICK_TESTS
    assert "unfinished / interrupted" in run_page and 'class="status status-unfinished"' in run_page
    assert "status-unfinished" in site_page and "status-unfinished" in summary_page
    for html in (run_page, site_page, summary_page):
        assert 'status-passed">passed</span> <span class="counts' not in html
    assert token.split(":", 1)[1] not in run_page + record_file.read_text()
