"""STALE counts from the last test result: a site that only sends runs in which no test ran
(a psij session that dies at collection still sends its start and end records) goes STALE,
and its last contact is shown apart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard_server.models import Site
from tests.support.dashboard import add_site, issue_token, make_run, now, post_all, psij_session, upload, write


def seen_two_days_ago(app, site: str) -> None:
    def work(session):
        row = session.scalar(select(Site).where(Site.name == site))
        row.last_seen_at = row.last_contact_at = now() - timedelta(days=2)
    write(app, work)


def site_json(client, site: str):
    return client.get(f"/api/v1/sites/{site}").json["site"]


@pytest.fixture
def dane(app):
    add_site(app, "llnl-dane", facility="llnl", machine="dane", expected_interval_hours=24)
    add_site(app, "llnl-tioga", facility="llnl", machine="tioga", expected_interval_hours=24)
    return issue_token(app, "llnl-dane"), issue_token(app, "llnl-tioga")


def test_runs_without_tests_do_not_refresh_last_seen(app, client, dane):
    records_key, _ = dane
    seen_two_days_ago(app, "llnl-dane")
    assert site_json(client, "llnl-dane")["stale"] is True
    # the harness: a run that ran no suite at all
    assert upload(client, records_key, make_run("llnl-dane", suites={})).status_code == 200
    # psij: a session that died at collection sends only its start and end records
    post_all(client, psij_session(records_key, tests={}))
    site = site_json(client, "llnl-dane")
    assert site["stale"] is True, "runs without a test kept the site looking alive"
    assert site["last_contact_at"] > site["last_seen_at"]
    statuses = [r["status"] for r in client.get("/api/v1/sites/llnl-dane/runs").json["runs"]]
    assert statuses == ["error", "error"]  # and both are visibly errors, not green
    page = client.get("/sites/llnl-dane").get_data(as_text=True)
    assert "STALE" in page and "Last contact" in page


def test_a_run_with_tests_refreshes_last_seen(app, client, dane):
    records_key, tioga_key = dane
    seen_two_days_ago(app, "llnl-dane")
    seen_two_days_ago(app, "llnl-tioga")
    post_all(client, psij_session(records_key, tests={"test_simple_job[local:single]": "failed"}))
    assert site_json(client, "llnl-dane")["stale"] is False  # a failing report is still a report
    assert site_json(client, "llnl-tioga")["stale"] is True  # the other machine is untouched
    assert upload(client, tioga_key, make_run("llnl-tioga")).status_code == 200
    tioga = site_json(client, "llnl-tioga")
    assert tioga["stale"] is False and tioga["last_contact_at"] == tioga["last_seen_at"]
