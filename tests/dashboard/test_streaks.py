"""Since when a suite has been failing, and what changed when it started."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.dashboard import make_run, now, upload


def _upload_run(client: FlaskClient, token: str, hours_ago: int, status: str,
                parsl: str = "2026.10.26", commit: str = "aaa") -> str:
    records = make_run(tests={"test_a": status, "test_b": "passed" if status != "skipped" else "skipped"},
                       started_at=now() - timedelta(hours=hours_ago))
    records[0]["components"]["parsl"] = parsl
    records[0]["commit"] = commit
    assert upload(client, token, records).status_code == 200
    return records[0]["run_id"]


def _run_number(client: FlaskClient, run_id: str) -> int:
    return client.get(f"/api/v1/sites/local-linux/runs/{run_id}").get_json()[0]["id"]


def _cell(client: FlaskClient) -> dict[str, Any]:
    summary = client.get("/api/v1/summary").get_json()
    return summary["rows"][0]["cells"]["psij"]


def test_failure_streak_starts_at_the_first_failure_after_the_last_pass(client: FlaskClient, token: str) -> None:
    _upload_run(client, token, 10, "failed")                      # an older, finished streak
    _upload_run(client, token, 9, "passed")
    last_pass = _upload_run(client, token, 8, "passed")
    first_fail = _upload_run(client, token, 7, "failed", parsl="2026.11.02", commit="bbb")
    _upload_run(client, token, 6, "skipped", parsl="2026.11.02", commit="bbb")  # skips do not end it
    latest = _upload_run(client, token, 5, "failed", parsl="2026.11.02", commit="bbb")

    cell = _cell(client)
    assert cell["status"] == "failed"
    assert cell["first_failing_run"] == _run_number(client, first_fail)
    assert cell["last_passing_run"] == _run_number(client, last_pass)

    run = client.get(f"/api/v1/runs/{_run_number(client, latest)}").get_json()
    (streak,) = run["streaks"]
    assert streak["suite"] == "psij" and streak["first_failing_run"] == _run_number(client, first_fail)
    changes = {c["name"]: (c["before"], c["after"]) for c in streak["changes"]}
    assert changes == {"parsl": ("2026.10.26", "2026.11.02"), "commit": ("aaa", "bbb")}

    page = client.get(f"/runs/{_run_number(client, latest)}").get_data(as_text=True)
    assert 'id="changes"' in page and "2026.11.02" in page and "last passed in" in page
    assert "since" in client.get("/").get_data(as_text=True)


def test_a_pass_ends_the_streak(client: FlaskClient, token: str) -> None:
    _upload_run(client, token, 3, "failed")
    _upload_run(client, token, 2, "passed")
    cell = _cell(client)
    assert cell["status"] == "passed" and cell["failing_since"] is None


def test_a_suite_that_never_passed_says_so(client: FlaskClient, token: str) -> None:
    _upload_run(client, token, 4, "failed")
    latest = _upload_run(client, token, 3, "failed")
    (streak,) = client.get(f"/api/v1/runs/{_run_number(client, latest)}").get_json()["streaks"]
    assert streak["last_passing_run"] is None and streak["changes"] == []
    assert "it has not passed here before" in client.get(f"/runs/{_run_number(client, latest)}").get_data(as_text=True)


def test_an_old_run_page_shows_the_streak_it_belonged_to(client: FlaskClient, token: str) -> None:
    old_fail = _upload_run(client, token, 9, "failed", commit="old")
    _upload_run(client, token, 8, "passed", commit="fix")
    _upload_run(client, token, 7, "failed", commit="new")
    (streak,) = client.get(f"/api/v1/runs/{_run_number(client, old_fail)}").get_json()["streaks"]
    assert streak["first_failing_run"] == _run_number(client, old_fail)


def test_the_batched_lookups_find_what_the_per_cell_ones_find(db_url: str) -> None:
    """PostgreSQL refreshes every failing cell of a batch in one statement; on a history with
    flaky tests, streaks that never passed, and passes after failures, it agrees cell by cell
    with the two indexed reads SQLite makes per cell."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from bench.generate import load, open_database
    from bench.synth import Matrix, Spec
    from dashboard_server.models import LatestResult
    from dashboard_server.streaks import _arrays, _batched_lookups, _cell_lookups

    engine = open_database(db_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("the batched form is PostgreSQL's (SQLite has no LATERAL)")
    load(engine, Matrix.build(Spec(sites=4, suites=6, days=20, flaky_fraction=0.4, fail_rate=0.05)))
    with Session(engine) as session:
        cells = [tuple(c) for c in session.execute(select(LatestResult.site_id, LatestResult.variant,
                                                          LatestResult.suite))]
        rows = session.connection().execute(_batched_lookups(), _arrays(cells)).tuples().all()
        assert len(rows) == len(cells)
        kinds = set()
        for site_id, variant, suite, first_at, first_run, last_at, last_run in rows:
            first, last = _cell_lookups(session, site_id, variant, suite)
            assert (first_at, first_run) == ((first.started_at, first.run_id) if first else (None, None))
            assert (last_at, last_run) == ((last.started_at, last.run_id) if last else (None, None))
            kinds.add((first is None, last is None))
    engine.dispose()
    assert kinds >= {(False, False), (True, False)}, kinds  # failing after a pass; passing now
