"""Concurrent writers: no lost counter updates, no duplicates, no 5xx."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from dashboard_helpers import make_run, upload
from dashboard_server.models import SuiteRun, TestResultRow
from exaworks_sdk.records import TestResult, new_id

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
