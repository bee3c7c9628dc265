"""The version sets kept at ingest (``latest_sets.py``): what the compatibility matrix shows stays
true when a run's components come after its tests, when runs are deleted and when an existing
database is migrated; and the matrix reads one row per set and cell, not the window's runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.flood import flood
from bench.synth import Spec
from dashboard_server import compat, migrate
from dashboard_server.models import LatestSetRun, Run
from dashboard_server.registry import registry
from tests.support.dashboard import auth, make_run, upload
from tests.support.history import run_at, run_number
from tests.support.plans import executed_plan, loaded, rows_touched, sqlite_plan, statements_run

JUNIT = b"""<testsuite name="parsl"><testcase classname="t" name="test_a"/><testcase classname="t" name="test_b"/>
</testsuite>"""


def _sets(client: FlaskClient, suite: str) -> list[tuple[dict[str, Any], list[tuple[str, str, int]]]]:
    (shown,) = client.get(f"/api/v1/compat?suite={suite}").get_json()["suites"]
    return [(s["versions"], [(v["site"], v["status"], v["run"]) for v in s["sites"]]) for s in shown["sets"]]


def test_a_run_start_after_its_junit_upload_files_the_suites_under_its_components(
        client: FlaskClient, token: str) -> None:
    run_id = "late-start-0001"
    response = client.post(f"/api/v1/junit?run_id={run_id}&variant=pip&suite=parsl&finished=false", data=JUNIT,
                           content_type="application/xml", headers=auth(token))
    assert response.status_code == 200, response.get_json()
    number = run_number(client, "local-linux", run_id)
    assert _sets(client, "parsl") == [({"parsl": None}, [("local-linux", "unfinished", number)])]

    start, *_, finish = make_run(run_id=run_id, suites={"parsl": {}})
    start["components"] = {"parsl": "2026.10.26", "psij-python": "0.9.11"}
    assert upload(client, token, [start, finish]).status_code == 200
    assert _sets(client, "parsl") == [({"parsl": "2026.10.26"}, [("local-linux", "passed", number)])]


def test_a_run_start_naming_another_variant_moves_the_runs_cells(client: FlaskClient, token: str) -> None:
    """JUnit results filed under the default variant; the run's start record says pip: the
    summary, the matrix and the run agree on pip, and the default row is gone."""
    run_id = "late-start-0002"
    response = client.post(f"/api/v1/junit?run_id={run_id}&suite=parsl&finished=false", data=JUNIT,
                           content_type="application/xml", headers=auth(token))
    assert response.status_code == 200, response.get_json()
    rows = {row["variant"]: row["cells"] for row in client.get("/api/v1/summary").get_json()["rows"]}
    assert "parsl" in rows["default"]

    start = make_run(run_id=run_id, variant="pip", suites={"parsl": {}})[0]
    assert upload(client, token, [start]).status_code == 200
    rows = {row["variant"]: row["cells"] for row in client.get("/api/v1/summary").get_json()["rows"]}
    assert rows["pip"]["parsl"]["run"] == run_number(client, "local-linux", run_id)
    assert "parsl" not in rows.get("default", {})
    (shown,) = client.get("/api/v1/compat?suite=parsl").get_json()["suites"]
    assert [[(v["site"], v["variant"]) for v in s["sites"]] for s in shown["sets"]] == [[("local-linux", "pip")]]
    (run,) = client.get(f"/api/v1/sites/local-linux/runs/{run_id}").get_json()
    assert run["variant"] == "pip"


def test_deleting_a_sets_newest_run_shows_its_run_before(app: Flask, client: FlaskClient, token: str) -> None:
    old, new = {"parsl": "2026.8.3"}, {"parsl": "2026.10.26"}
    ran = [run_at(client, token, "local-linux", "pip", hours_ago=hours, components=versions,
                  suites={"parsl": {"test_a": status}})
           for hours, versions, status in [(30, old, "passed"), (20, new, "failed"), (10, new, "passed")]]
    a, b, c = (run_number(client, "local-linux", r["run_id"]) for r in ran)
    assert _sets(client, "parsl") == [(new, [("local-linux", "passed", c)]), (old, [("local-linux", "passed", a)])]

    cli = app.test_cli_runner()
    assert cli.invoke(args=["runs", "delete", "local-linux", "--run", str(c)]).exit_code == 0
    assert _sets(client, "parsl") == [(new, [("local-linux", "failed", b)]), (old, [("local-linux", "passed", a)])]
    assert cli.invoke(args=["runs", "delete", "local-linux", "--run", str(b)]).exit_code == 0
    assert _sets(client, "parsl") == [(old, [("local-linux", "passed", a)])]


def _stored(app: Flask) -> set[tuple[Any, ...]]:
    with Session(app.extensions["sdk_dashboard"]["engine"]) as session:
        return {tuple(r) for r in session.execute(select(
            LatestSetRun.site_id, LatestSetRun.variant, LatestSetRun.suite, LatestSetRun.components_key,
            LatestSetRun.run_id, LatestSetRun.started_at))}


def test_the_migration_backfills_what_ingest_keeps(app: Flask, client: FlaskClient, token: str,
                                                   other_token: str) -> None:
    for n, (site_token, site, versions) in enumerate([
            (token, "local-linux", {"parsl": "2026.8.3"}), (token, "local-linux", {"parsl": "2026.10.26"}),
            (other_token, "llnl-dane", {"parsl": "2026.10.26", "flux-core": "0.81.0"}),
            (other_token, "llnl-dane", {"flux-core": "0.81.0", "parsl": "2026.10.26"}),  # one set, other order
            (token, "local-linux", {"parsl": "2026.10.26"})]):
        run_at(client, site_token, site, "pip", hours_ago=50 - n, components=versions,
               suites={"parsl": {"test_a": "passed"}, "parsl-flux": {"test_b": "passed"}})
    kept = _stored(app)
    assert len(kept) == 6  # local-linux: 2 sets × 2 suites; llnl-dane: 1 set × 2 suites
    engine = app.extensions["sdk_dashboard"]["engine"]
    migrate.downgrade(engine, "0010")
    migrate.upgrade(engine)
    assert _stored(app) == kept


# Four sites, 100 days, a new release every 30 days: a handful of sets per cell, hundreds of runs
SPEC = Spec(sites=4, suites=10, days=100, runs_per_day=4, max_variants=2, tests_per_suite=(2, 3), release_days=30,
            end=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))


@pytest.fixture
def history(db_url: str) -> Any:
    with loaded(db_url, SPEC) as engine:
        yield engine


@pytest.mark.parametrize("flooded", [False, True], ids=["history", "and-a-flood"])
def test_the_matrix_reads_each_set_once_however_many_runs_used_it(history: Any, db_url: str, flooded: bool) -> None:
    """Also after one more site's run of 3,000 suites (``bench.flood``, analysed as autovacuum
    would): its run id's statistics then promise PostgreSQL many suite runs per pointer, and a
    join left to the planner hashed the whole of ``suite_runs``."""
    if flooded:
        flood(db_url, 3000)
    app = Flask(__name__)
    with app.app_context(), Session(history) as session:
        since = datetime.now(UTC) - timedelta(days=compat.DEFAULT_DAYS)
        window_runs = session.scalar(select(func.count()).select_from(Run).where(Run.started_at >= since))
        pointers = session.scalar(select(func.count()).select_from(LatestSetRun)
                                  .where(LatestSetRun.started_at >= since, LatestSetRun.suite.in_(registry())))
        assert window_runs > 4 * pointers / SPEC.suites  # many runs per set: reading them all would show
        with statements_run(history) as statements:
            out = compat.matrix(session, compat.DEFAULT_DAYS)
        shown = sum(len(v.sites) for s in out.suites for v in s.sets)
        assert 0 < shown <= pointers  # a verdict per pointer, less those that differ only in other components
        conn = session.connection()
        for sql, params in statements:
            if history.dialect.name == "sqlite":
                plan = sqlite_plan(conn, sql, params)
                assert "ix_runs_started" not in plan and "SCAN runs" not in plan, plan
                assert "SCAN suite_runs" not in plan and "USING INDEX ix_suite_runs_" not in plan, plan
            else:
                plan = executed_plan(conn, sql, params)
                assert rows_touched(plan, "runs") <= pointers < window_runs, (sql, plan)
                assert rows_touched(plan, "suite_runs") <= 2 * pointers, (sql, plan)
