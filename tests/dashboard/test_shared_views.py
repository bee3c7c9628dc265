"""One site can never degrade what the others see (issue #15, F1 and F10): the summary, the site
page and the badges cost a fixed number of statements however many failing suites one site
sends; suites outside the harness registry fold into one "other" column; caps refuse a run or
a site with too many suites; the idempotency ledger is per site."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard_server.models import LatestResult
from dashboard_server.streaks import failure_streak
from tests.support.attacks import ATTACKER, attacker, legacy_body, many_failing_suites, shared_world, statements
from tests.support.dashboard import make_run, now, upload

PAGES = ("/api/v1/summary", "/", "/api/v1/sites/local-linux", "/sites/local-linux",
         "/badges/suites/psij.svg", "/badges/sites/llnl-dane.svg", f"/badges/sites/{ATTACKER}.svg")


def cost(app, client) -> dict[str, int]:
    out = {}
    for path in PAGES:
        with statements(app) as seen:
            assert client.get(path).status_code == 200, path
        out[path] = len(seen)
    return out


def test_thousands_of_failing_suites_from_one_site_cost_the_others_nothing(app, client, token, other_token):
    app.config.update(MAX_SUITES_PER_RUN=5000, MAX_SUITES_PER_SITE=5000)  # let the flood in
    shared_world(app, client, token, other_token)
    evil = attacker(app)
    assert upload(client, evil, make_run(ATTACKER, suites={"psij": {"t": "passed"}})).status_code == 200
    before = cost(app, client)
    summary_before = client.get("/api/v1/summary").json

    assert upload(client, evil, many_failing_suites(ATTACKER, 3000)).status_code == 200

    assert cost(app, client) == before  # not one statement more, on any shared page
    summary = client.get("/api/v1/summary").json
    assert summary["suites"] == summary_before["suites"] == ["mpi", "parsl", "psij"]
    rows = {(r["site"]["name"], r["variant"]): r for r in summary["rows"]}
    evil_row = rows[(ATTACKER, "pip")]
    assert evil_row["other"] == {"status": "failed", "suites": 3000, "failing": 3000}
    assert set(evil_row["cells"]) == {"psij"}  # its known suite keeps its own column
    for site in ("local-linux", "llnl-dane"):
        before_row = next(r for r in summary_before["rows"] if r["site"]["name"] == site)
        row = rows[(site, "pip")]
        assert row["cells"] == before_row["cells"] and row["other"] is None
    # the flood shows where it belongs: the attacker's own page and badge
    assert len(client.get(f"/api/v1/sites/{ATTACKER}").json["latest"]) == 3001
    assert b"failed" in client.get(f"/badges/sites/{ATTACKER}.svg").data
    assert b"failed" not in client.get("/badges/suites/parsl.svg").data
    html = client.get("/").get_data(as_text=True)
    assert html.count("junk-") == 0 and "3000 suites, 3000 failing" in html


def test_streaks_are_stored_at_ingest_and_match_the_history(app, client, token, other_token):
    shared_world(app, client, token, other_token)
    cells = {(c["site"], c["suite"]): c for row in client.get("/api/v1/summary").json["rows"]
             for c in row["cells"].values()}
    failing = cells[("local-linux", "psij")]
    runs = client.get("/api/v1/sites/local-linux/runs").json["runs"]  # newest first
    assert failing["first_failing_run"] == runs[1]["id"] and failing["last_passing_run"] == runs[2]["id"]
    assert cells[("llnl-dane", "mpi")]["first_failing_run"] == cells[("llnl-dane", "mpi")]["run"]
    assert cells[("local-linux", "parsl")]["failing_since"] is None
    # a late upload of an older failing run moves the stored start of the streak back
    late = make_run("local-linux", suites={"psij": {"test_a": "failed"}},
                    started_at=now() - timedelta(days=2, hours=12))
    assert upload(client, token, late).status_code == 200
    with app.extensions["sdk_dashboard"]["sessionmaker"]() as session:
        for row in session.scalars(select(LatestResult)):
            streak = failure_streak(session, row.site_id, row.variant, row.suite)
            if row.failing_since is not None:
                assert streak is not None and row.failing_since == streak.first_failing.started_at, row.suite
                assert row.first_failing_run_id == streak.first_failing.run_id
    psij = next(c for row in client.get("/api/v1/summary").json["rows"] for c in row["cells"].values()
                if c["site"] == "local-linux" and c["suite"] == "psij")
    assert psij["first_failing_run"] != failing["first_failing_run"]


def test_a_run_with_too_many_suites_is_refused_whole(app, client, token, other_token):
    shared_world(app, client, token, other_token)
    evil = attacker(app)
    response = upload(client, evil, many_failing_suites(ATTACKER, 201))
    assert response.status_code == 422 and response.json["error"]["code"] == "too_many_suites"
    assert "more than 200 suites" in response.json["error"]["message"]
    assert "MAX_SUITES_PER_RUN" in response.json["error"]["message"]
    assert client.get(f"/api/v1/sites/{ATTACKER}/runs").json["total"] == 0
    assert upload(client, evil, many_failing_suites(ATTACKER, 200)).status_code == 200


def test_a_site_with_too_many_distinct_suites_is_refused(app, client, token, other_token):
    app.config.update(MAX_SUITES_PER_SITE=50)
    shared_world(app, client, token, other_token)
    evil = attacker(app)
    assert upload(client, evil, many_failing_suites(ATTACKER, 40, "a")).status_code == 200
    response = upload(client, evil, many_failing_suites(ATTACKER, 11, "b"))
    assert response.status_code == 422 and "MAX_SUITES_PER_SITE" in response.json["error"]["message"]
    assert "51 distinct suites" in response.json["error"]["message"]
    assert client.get(f"/api/v1/sites/{ATTACKER}/runs").json["total"] == 1
    # the suites it has still report; a lowered cap does not lock a site out of them
    app.config.update(MAX_SUITES_PER_SITE=10)
    assert upload(client, evil, many_failing_suites(ATTACKER, 40, "a")).status_code == 200
    # JUnit counts the same way
    cases = "".join(f'<testsuite name="j{i}"><testcase name="t"/></testsuite>' for i in range(3))
    junit = client.post("/api/v1/junit?run_id=junit-run-many", data=f"<testsuites>{cases}</testsuites>",
                        headers={"Authorization": f"Bearer {evil}"})
    assert junit.status_code == 422 and junit.json["error"]["code"] == "too_many_suites"


def test_the_same_record_ids_from_two_sites_both_store(app, client, token, other_token):
    """F10: the ledger is keyed by (site, record id); a second site is never told 409."""
    records = make_run("local-linux", suites={"psij": {"t": "failed"}, "parsl": {"t": "passed"}})
    copied = [dict(r, site="llnl-dane") if r["type"] == "run_start" else dict(r) for r in records]
    assert upload(client, token, records).json["accepted"] == len(records)
    assert upload(client, other_token, copied).json["accepted"] == len(records)
    assert upload(client, other_token, copied).json["duplicates"] == len(records)
    changed = [dict(r, duration=2.5) if r["type"] == "test_result" else r for r in copied]
    assert upload(client, other_token, changed).status_code == 409  # its own ledger still guards it
    for site in ("local-linux", "llnl-dane"):
        runs = client.get(f"/api/v1/sites/{site}/runs").json["runs"]
        assert len(runs) == 1 and runs[0]["counts"]["failed"] == 1


@pytest.mark.parametrize("name", ["psij_start", "psij_test_failed", "psij_end"])
def test_the_same_legacy_payload_from_two_sites_both_stores(app, client, token, other_token, name):
    for site, key in (("llnl-dane", other_token), ("local-linux", token)):
        response = client.post("/result", json=legacy_body(name, site, key))
        assert response.status_code == 200 and response.json["accepted"] == 1, (site, response.json)
    for site in ("local-linux", "llnl-dane"):
        assert client.get(f"/api/v1/sites/{site}/runs").json["total"] == 1
