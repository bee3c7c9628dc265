"""Concurrent writers: no lost counter updates, no duplicates, no 5xx."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from dashboard_server.models import SuiteRun, TestResultRow
from exaworks_sdk.records import TestResult, new_id
from tests.support.dashboard import make_run, upload

WORKERS = 12


def test_parallel_batches_into_one_run_lose_no_counts(app, token):
    start = make_run(tests={})[:1]
    run_id = start[0]["run_id"]
    assert upload(app.test_client(), token, start).status_code == 200

    def send(worker: int) -> int:
        batch = [TestResult(id=new_id(), run_id=run_id, suite="psij", test_id=f"w{worker}-t{i}",
                            status="failed" if i % 3 == 0 else "passed").to_dict() for i in range(15)]
        return upload(app.test_client(), token, batch).status_code

    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = list(pool.map(send, range(WORKERS * 2)))
    assert statuses == [200] * (WORKERS * 2)

    with app.extensions["sdk_dashboard"]["sessionmaker"]() as session:
        rows = session.scalar(select(func.count()).select_from(TestResultRow))
        counters = session.execute(select(SuiteRun.passed, SuiteRun.failed)).one()
    assert rows == WORKERS * 2 * 15
    assert counters == (WORKERS * 2 * 10, WORKERS * 2 * 5)


def test_same_batch_sent_concurrently_is_stored_once(app, token):
    records = make_run(tests={f"t{i}": "passed" for i in range(20)})

    def send(_: int):
        response = upload(app.test_client(), token, records)
        return response.status_code, response.json

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(send, range(WORKERS)))
    assert {status for status, _ in results} == {200}
    assert sum(body["accepted"] for _, body in results) == len(records)
    run = app.test_client().get("/api/v1/sites/local-linux/runs").json["runs"][0]
    assert run["counts"]["passed"] == 20


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    engine = app.extensions["sdk_dashboard"]["engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == app.config["SQLITE_BUSY_TIMEOUT_MS"] > 0


WRITER = """
import sys
from dashboard_server import create_app
from exaworks_sdk.records import TestResult, new_id
url, token, run_id, worker = sys.argv[1:5]
client = create_app({"DATABASE_URL": url, "AUTO_MIGRATE": False}).test_client()
codes = []
for batch in range(8):
    records = [TestResult(id=new_id(), run_id=run_id, suite="psij", test_id=f"p{worker}-b{batch}-t{i}",
                          status="failed" if i % 3 == 0 else "passed").to_dict() for i in range(9)]
    response = client.post("/api/v1/records", json={"records": records},
                           headers={"Authorization": "Bearer " + token})
    codes.append(response.status_code)
print(" ".join(map(str, codes)))
"""


@pytest.mark.slow
def test_writer_processes_lose_no_counts(app, app_config, token):
    """Separate processes, each with its own engine and connections, bump the same run's counters."""
    start = make_run(tests={})[:1]
    assert upload(app.test_client(), token, start).status_code == 200
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, app_config["DATABASE_URL"], token,
                                   start[0]["run_id"], str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for n in range(4)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err[-500:] for _, err in outputs]
    assert all(out.split() == ["200"] * 8 for out, _ in outputs), outputs
    with app.extensions["sdk_dashboard"]["sessionmaker"]() as session:
        rows = session.scalar(select(func.count()).select_from(TestResultRow))
        counters = session.execute(select(SuiteRun.passed, SuiteRun.failed)).one()
    assert rows == 4 * 8 * 9
    assert counters == (4 * 8 * 6, 4 * 8 * 3)
