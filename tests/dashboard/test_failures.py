"""Failure fingerprints and attribution (issue 18, part 2): history of three facilities uploaded
through the real upload API; a flux-core bump breaks parsl-flux at two sites the same way (with
different paths, hosts, job ids and times), and an MPI upgrade at one site breaks its psij suite.
The page shows what is failing now: the failed tests of each failing cell's newest run."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.flood import flood
from bench.pages import SPEC as PAGES_SPEC
from bench.synth import days_for
from dashboard_server import db
from dashboard_server.failures import _failing_rows, failures
from dashboard_server.models import LatestResult, Run, Site, TestResultRow
from tests.support.dashboard import facility_tokens
from tests.support.history import SPACK_PINNED, passing, run_at, run_number
from tests.support.plans import executed_plan, loaded, rows_touched, sqlite_plan, statements_run

TIMEOUT = '''Traceback (most recent call last):
  File "{root}/test_harness/suites/test_parsl_flux.py", line 41, in test_executor
    fut.result(timeout=60)
  File "/usr/lib/python3.11/concurrent/futures/_base.py", line 456, in result
    raise TimeoutError()
E   TimeoutError: job {job} on {host} did not start by {when}
'''
# ``bench.flood``'s history before its flood: twelve sites, 30,000 results (``bench.synth``)
FLOOD_SPEC = days_for(PAGES_SPEC, 30_000)
MPI = "RuntimeError: mpirun exited with 139 on {host}: PMI2_Init failed (0x{addr})"
ENV = {"scheduler": "slurm", "mpi": "cray-mpich 8.1.28", "os": "SLES 15.5"}


def _timeout(root: str, job: int, host: str, when: str) -> tuple[str, str]:
    return (f"TimeoutError: job {job} on {host} did not start by {when}",
            TIMEOUT.format(root=root, job=job, host=host, when=when))


@pytest.fixture
def history(app: Flask, client: FlaskClient) -> dict[str, Any]:
    tokens = {**facility_tokens(app, "llnl"), **facility_tokens(app, "nersc"), **facility_tokens(app, "ornl")}
    ran: dict[str, Any] = {}
    suites = passing("parsl", "flux", "parsl-flux", "psij")
    for site in ("llnl-dane", "nersc-perlmutter", "ornl-frontier"):  # a week of passes everywhere
        for day in (7, 5, 3):
            run_at(client, tokens[site], site, "spack", hours_ago=day * 24, components=SPACK_PINNED,
                   suites=suites, environment=ENV)
    bumped = {**SPACK_PINNED, "flux-core": "0.82.0"}
    broken = {**suites, "parsl-flux": {"test_executor": "failed", "test_many": "passed"}}
    ran["dane"] = run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=30, components=bumped,
                         suites=broken, environment=ENV,
                         failure=_timeout("/g/g20/ci/b/abc", 1234, "dane12.llnl.gov", "2026-12-01T10:01:02Z"))
    ran["perlmutter"] = run_at(client, tokens["nersc-perlmutter"], "nersc-perlmutter", "spack", hours_ago=20,
                               components=bumped, suites=broken, environment={**ENV, "mpi": "cray-mpich 8.1.30"},
                               failure=_timeout("/global/homes/x/ci/77", 98765, "nid001234.perlmutter.nersc.gov",
                                                "2026-12-01 22:13:09"))
    ran["frontier"] = run_at(client, tokens["ornl-frontier"], "ornl-frontier", "spack", hours_ago=10,
                             components=SPACK_PINNED, environment={**ENV, "mpi": "cray-mpich 8.1.31"},
                             suites={**suites, "psij": {"test_mpi_ranks": "failed", "test_simple": "passed"}},
                             failure=(MPI.format(host="frontier04211.frontier.olcf.ornl.gov", addr="7f3a2c1e"), ""))
    ran["frontier_again"] = run_at(client, tokens["ornl-frontier"], "ornl-frontier", "spack", hours_ago=2,
                                   components=SPACK_PINNED, environment={**ENV, "mpi": "cray-mpich 8.1.31"},
                                   suites={"psij": {"test_mpi_ranks": "failed"}},
                                   failure=(MPI.format(host="frontier00017.frontier.olcf.ornl.gov", addr="55d0"), ""))
    return ran


def test_the_same_failure_at_two_sites_points_to_the_bumped_component(client: FlaskClient,
                                                                       history: dict[str, Any]) -> None:
    groups = client.get("/api/v1/failures").get_json()["groups"]
    assert len(groups) == 2
    flux = groups[0]  # most sites first
    assert flux["sites"] == ["llnl-dane", "nersc-perlmutter"] and flux["count"] == 2
    assert flux["tests"] == ["parsl-flux::test_executor"] and flux["test_count"] == 1
    assert flux["attribution"] == "component"
    assert [(c["kind"], c["name"], c["before"], c["after"]) for c in flux["changes"]] == [
        ("component", "flux-core", ["0.81.0"], "0.82.0")]  # perlmutter's MPI change is not shared
    assert "Points to flux-core" in flux["explanation"] and "2 sites" in flux["explanation"]
    assert set(flux["runs"]) == {run_number(client, "llnl-dane", history["dane"]["run_id"]),
                                 run_number(client, "nersc-perlmutter", history["perlmutter"]["run_id"])}


def test_a_failure_at_one_site_after_its_environment_changed_points_to_the_facility(
        client: FlaskClient, history: dict[str, Any]) -> None:
    mpi = client.get("/api/v1/failures").get_json()["groups"][1]
    assert mpi["sites"] == ["ornl-frontier"] and mpi["count"] == 1  # the newest run's failed test
    assert mpi["attribution"] == "facility"  # the streak's first failing run against the last pass before it
    assert [(c["kind"], c["name"], c["after"]) for c in mpi["changes"]] == [
        ("environment", "mpi", "cray-mpich 8.1.31")]
    assert "Points to the facility" in mpi["explanation"] and "ornl-frontier" in mpi["explanation"]
    first, again = (client.get(f"/api/v1/sites/ornl-frontier/runs/{history[k]['run_id']}").get_json()[0]
                    for k in ("frontier", "frontier_again"))
    assert (mpi["first_seen"], mpi["last_seen"]) == (first["started_at"], again["started_at"])  # failing since, newest
    assert mpi["runs"] == [run_number(client, "ornl-frontier", history["frontier_again"]["run_id"])]


def test_the_page_says_it_in_words(client: FlaskClient, history: dict[str, Any]) -> None:
    page = client.get("/failures/").get_data(as_text=True)
    assert "Points to flux-core" in page and "Points to the facility" in page
    assert "parsl-flux::test_executor" in page
    assert client.get("/api/v1/failures?days=0").status_code == 400
    assert client.get("/failures/?days=x").status_code == 400


def test_the_rows_are_the_failed_tests_of_each_failing_cells_newest_run(app: Flask, history: dict[str, Any]) -> None:
    """``_failing_rows`` finds, in one statement per site (one in all on PostgreSQL), what a plain
    query of every cell finds: the fingerprinted tests of the newest run of each cell whose
    stored streak says it is failing, with that streak's first failing and last passing runs."""
    with app.app_context():
        session = db.session()
        expected = set(session.execute(
            select(TestResultRow.id, TestResultRow.run_id, LatestResult.first_failing_run_id,
                   LatestResult.last_passing_run_id)
            .join(LatestResult, (LatestResult.run_id == TestResultRow.run_id) & (LatestResult.suite == TestResultRow.suite))
            .where(LatestResult.first_failing_run_id.is_not(None), TestResultRow.fingerprint.is_not(None))).tuples())
        rows = _failing_rows(session, datetime.now(UTC) - timedelta(days=14), session.scalars(select(Site.id)).all())
        assert {(r[1], r[5], r[9], r[10]) for r in rows} == expected and len(expected) == 3
        assert rows == sorted(rows, reverse=True)  # newest first


def test_a_failure_that_stopped_leaves_the_page(app: Flask, client: FlaskClient, history: dict[str, Any]) -> None:
    """Once a cell passes again its failure is no longer current: Dane's parsl-flux passes, and
    the flux-core group is Perlmutter's alone; once Perlmutter's passes too, the group is gone
    (the digest lists it as fixed)."""
    tokens = {**facility_tokens(app, "llnl"), **facility_tokens(app, "nersc")}
    bumped = {**SPACK_PINNED, "flux-core": "0.82.0"}
    run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=1, components=bumped,
           suites=passing("parsl-flux"), environment=ENV)
    groups = client.get("/api/v1/failures").get_json()["groups"]
    flux = next(g for g in groups if g["tests"] == ["parsl-flux::test_executor"])
    assert flux["sites"] == ["nersc-perlmutter"] and flux["count"] == 1
    run_at(client, tokens["nersc-perlmutter"], "nersc-perlmutter", "spack", hours_ago=0.5, components=bumped,
           suites=passing("parsl-flux"), environment=ENV)
    body = client.get("/api/v1/failures").get_json()
    assert body["total"] == 1 and body["groups"][0]["sites"] == ["ornl-frontier"]


def test_the_attribution_compares_the_streaks_first_failing_run(app: Flask, client: FlaskClient,
                                                               history: dict[str, Any]) -> None:
    """A later run at Dane fails the same way after an OS update: the newest run is the later
    one, but the change that came with the failure is still read from the streak's first
    failing run, so the OS update (not shared by every first-failing run) is not blamed."""
    dane = facility_tokens(app, "llnl")["llnl-dane"]
    later = run_at(client, dane, "llnl-dane", "spack", hours_ago=5, components={**SPACK_PINNED, "flux-core": "0.82.0"},
                   suites={"parsl-flux": {"test_executor": "failed"}}, environment={**ENV, "os": "SLES 15.6"},
                   failure=_timeout("/g/g20/ci/b/def", 4321, "dane07.llnl.gov", "2026-12-02T03:04:05Z"))
    flux = client.get("/api/v1/failures").get_json()["groups"][0]
    assert flux["sites"] == ["llnl-dane", "nersc-perlmutter"] and flux["attribution"] == "component"
    assert [(c["name"], c["after"]) for c in flux["changes"]] == [("flux-core", "0.82.0")]
    assert run_number(client, "llnl-dane", later["run_id"]) in flux["runs"]
    assert run_number(client, "llnl-dane", history["dane"]["run_id"]) not in flux["runs"]  # not its newest any more


def test_cells_that_did_not_run_within_the_days_are_left_out(client: FlaskClient, history: dict[str, Any]) -> None:
    """``days`` leaves out the cells whose newest run is older: over one day, Dane's failure of
    30 hours ago is not counted, Perlmutter's of 20 hours ago is."""
    def flux(days: int) -> dict[str, Any]:
        groups = client.get(f"/api/v1/failures?days={days}").get_json()["groups"]
        return next(g for g in groups if g["tests"] == ["parsl-flux::test_executor"])
    assert flux(1)["sites"] == ["nersc-perlmutter"]
    assert flux(2)["sites"] == ["llnl-dane", "nersc-perlmutter"]


def test_a_site_failing_by_the_hundred_does_not_hide_the_others(
        app: Flask, client: FlaskClient, history: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken install at one more site fails every test of its psij suite, twice, within the
    hour: more failed tests in its newest run than the page reads of one site (100, held here
    whatever the default). The other sites' groups and attributions are still there, and the
    page says whose were cut."""
    monkeypatch.setattr("dashboard_server.failures.MAX_ROWS_PER_SITE", 100)
    polaris = facility_tokens(app, "anl")["anl-polaris"]
    broken = {"psij": {f"test_{n:03d}": "failed" for n in range(150)}}
    for hours_ago in (0.8, 0.3):
        run_at(client, polaris, "anl-polaris", "pip", hours_ago=hours_ago, components=SPACK_PINNED, suites=broken,
               failure=("ModuleNotFoundError: No module named 'psij'", ""))
    body = client.get("/api/v1/failures").get_json()
    by_sites = {tuple(g["sites"]): g for g in body["groups"]}
    assert by_sites[("llnl-dane", "nersc-perlmutter")]["attribution"] == "component"
    assert by_sites[("ornl-frontier",)]["attribution"] == "facility"
    flood = by_sites[("anl-polaris",)]
    assert flood["count"] == 100 and flood["test_count"] == 100  # 100 of the newer run's 150; none of the older
    assert len(flood["tests"]) == 50 and flood["tests"] == sorted(flood["tests"])  # 50 listed
    assert set(flood["tests"]) <= {f"psij::test_{n:03d}" for n in range(150)}
    [cut] = body["cut"]
    assert (cut["site"], cut["read"]) == ("anl-polaris", 100)
    assert cut["since"] == flood["last_seen"] and flood["first_seen"] < flood["last_seen"]  # the newer run; since the older
    page = client.get("/failures/").get_data(as_text=True)
    assert "these sites reached" in page and "<strong>anl-polaris</strong> (100, since" in page
    assert "and 50 more" in page
    assert "Points to flux-core" in page and "Points to the facility" in page


def test_the_groups_come_a_page_at_a_time_largest_first(app: Flask, client: FlaskClient,
                                                          history: dict[str, Any]) -> None:
    """Three more failures of their own kinds at one site, in three suites, make five groups. Pages of two hold
    them in the order of the whole list, each group as the whole list shows it, and say how
    many there are; a page past the last is empty, not an error."""
    tokens = facility_tokens(app, "anl")
    for hours_ago, suite, name in ((5, "maestro", "alpha"), (4, "balsam", "beta"), (3, "libensemble", "gamma")):
        run_at(client, tokens["anl-polaris"], "anl-polaris", "pip", hours_ago=hours_ago, components=SPACK_PINNED,
               suites={suite: {f"test_{name}": "failed"}}, failure=(f"ImportError: cannot import {name}", ""))
    whole = client.get("/api/v1/failures?per_page=100").get_json()
    assert (whole["total"], whole["pages"], len(whole["groups"])) == (5, 1, 5)
    pages = [client.get(f"/api/v1/failures?per_page=2&page={n}").get_json() for n in (1, 2, 3, 4)]
    assert [(p["page"], p["per_page"], p["total"], p["pages"]) for p in pages] == [(n, 2, 5, 3) for n in (1, 2, 3, 4)]
    assert [len(p["groups"]) for p in pages] == [2, 2, 1, 0]
    assert [g for p in pages for g in p["groups"]] == whole["groups"]
    assert whole["groups"][0]["attribution"] == "component"  # the two-site group leads
    assert client.get("/api/v1/failures").get_json()["per_page"] == 20
    for bad in ("page=0", "per_page=0", "per_page=101", "page=x"):
        assert client.get(f"/api/v1/failures?{bad}").status_code == 400, bad
    html = client.get("/failures/?per_page=2&page=2").get_data(as_text=True)
    assert "Groups 3–4 of 5." in html and "page 2 of 3" in html
    assert 'href="/failures/?page=1&amp;days=14&amp;per_page=2"' in html  # larger groups
    assert 'href="/failures/?page=3&amp;days=14&amp;per_page=2"' in html  # smaller ones
    assert "No group on page 4" in client.get("/failures/?per_page=2&page=4").get_data(as_text=True)


def _test_result_reads(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(node type, index) of each node of an executed PostgreSQL plan that reads ``test_results``."""
    own = [(plan["Node Type"], plan.get("Index Name"))] if plan.get("Relation Name") == "test_results" else []
    return own + [read for child in plan.get("Plans", []) for read in _test_result_reads(child)]


def test_the_failed_tests_are_read_from_their_index_alone(app: Flask, history: dict[str, Any]) -> None:
    """The failed tests come from ``ix_test_results_failing`` alone (migrations 0012 and 0014), the
    failing cells from ``ix_latest_results_failing`` (migration 0014): the tests' table rows,
    which hold the messages and logs, are read only for the messages a page shows, by id."""
    with app.app_context():
        session = db.session()
        with statements_run(session.get_bind()) as statements:
            out = failures(session, 14)
        assert out.total == 2
        read = [(sql, params) for sql, params in statements if "fingerprint IS NOT NULL" in sql]
        assert read
        conn = session.connection()
        for sql, params in read:
            if conn.dialect.name == "sqlite":
                plan = sqlite_plan(conn, sql, params)
                assert "USING COVERING INDEX ix_test_results_failing" in plan, plan
                assert "USING INDEX ix_latest_results_failing" in plan, plan
            else:
                reads = _test_result_reads(executed_plan(conn, sql, params))
                assert reads and all(index == "ix_test_results_failing" for _, index in reads), reads


def test_a_flood_not_yet_analysed_is_read_only_up_to_its_share(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Right after one site's run of 2,000 failing suites, before autovacuum has seen it, the
    page still reads at most the per-site limit of that site's failed tests (here 100). On
    PostgreSQL the planner then sorts the site's failing cells instead of walking their index
    (the cells are bounded by the server's ``MAX_SUITES_PER_SITE``, raised here for the flood),
    so the newest 100 cells are chosen before any cell's failed tests are read."""
    monkeypatch.setattr("dashboard_server.failures.MAX_ROWS_PER_SITE", 100)
    with loaded(db_url, FLOOD_SPEC) as engine:
        flood(db_url, 2000, analyze=False)
        with Session(engine) as session:
            with statements_run(engine) as statements:
                rows = _failing_rows(session, datetime.now(UTC) - timedelta(days=14),
                                     session.scalars(select(Site.id)).all())
            sites = session.scalar(select(func.count()).select_from(Site))
            assert Counter(r[7] for r in rows).most_common(1)[0][1] == 100  # the flood's share, cut
            conn = session.connection()
            for sql, params in [(q, p) for q, p in statements if "fingerprint IS NOT NULL" in q]:
                if engine.dialect.name == "postgresql":
                    plan = executed_plan(conn, sql, params)
                    assert rows_touched(plan, "test_results") <= 100 * sites, plan
                    failing = session.scalar(select(func.count()).select_from(LatestResult)
                                             .where(LatestResult.first_failing_run_id.is_not(None)))
                    assert rows_touched(plan, "latest_results") <= failing, plan
                else:  # each cell's failed tests are a seek by run and suite, not a scan of the run's
                    plan = sqlite_plan(conn, sql, params)
                    assert "USING INDEX ix_latest_results_failing" in plan, plan
                    assert "USING COVERING INDEX ix_test_results_failing (run_id=? AND suite=?" in plan, plan


def test_the_read_follows_the_failing_cells_not_history(db_url: str) -> None:
    """What is failing now is read from the failing cells' newest runs: on a history of 150,000
    results (about four times the 14 days), the read touches no run and, of the failed tests and
    the cells, at most what it returns (plus EXPLAIN's rounding of per-loop averages)."""
    with loaded(db_url, days_for(PAGES_SPEC, 150_000)) as engine:
        since = datetime.now(UTC) - timedelta(days=14)
        with Session(engine) as session:
            sites = session.scalars(select(Site.id)).all()
            failing = session.scalar(select(func.count()).select_from(LatestResult)
                                     .where(LatestResult.first_failing_run_id.is_not(None)))
            all_runs = session.scalar(select(func.count()).select_from(Run))
            assert len(sites) >= 10 and failing and all_runs > 100 * failing
            with statements_run(engine) as statements:
                rows = _failing_rows(session, since, sites)
            assert rows and len({(r[7], r[6], r[3]) for r in rows}) == failing
            conn = session.connection()
            for sql, params in [(q, p) for q, p in statements if "fingerprint IS NOT NULL" in q]:
                if engine.dialect.name == "sqlite":
                    plan = sqlite_plan(conn, sql, params)
                    assert "ix_latest_results_failing" in plan and " runs" not in plan, plan
                else:
                    plan = executed_plan(conn, sql, params)
                    assert rows_touched(plan, "runs") == 0, plan
                    assert rows_touched(plan, "latest_results") <= failing + len(sites), plan
                    assert rows_touched(plan, "test_results") <= len(rows) + len(sites), plan
