"""Token administration refuses what it cannot mean (issue #15, F14): ``--expires-days`` below 1
is a usage error, and ``tokens list`` shows an expired token as expired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.dashboard import add_site, issue_token, make_run, now, upload


def invoke(app, *args):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


@pytest.mark.parametrize("days", ["0", "-1", "-365"])
def test_expires_days_below_one_is_a_usage_error(app, days):
    add_site(app, "local-linux")
    result = invoke(app, "tokens", "issue", "local-linux", "--expires-days", days)
    assert result.exit_code == 2, result.output
    assert "--expires-days" in result.output and "x>=1" in result.output
    assert "local-linux" not in invoke(app, "tokens", "list").stdout  # nothing issued


def test_expired_tokens_are_listed_as_expired(app):
    add_site(app, "local-linux")
    add_site(app, "llnl-dane")
    expired = issue_token(app, "local-linux", expires_in=timedelta(days=-1)).split(":")[0]
    active = issue_token(app, "llnl-dane", expires_in=timedelta(days=30)).split(":")[0]
    forever = issue_token(app, "llnl-dane").split(":")[0]
    listing = invoke(app, "tokens", "list").stdout  # stderr names the database
    states = {line.split("\t")[0]: line.split("\t")[2] for line in listing.splitlines()}
    assert states == {expired: "expired", active: "active", forever: "active"}
    assert invoke(app, "tokens", "issue", "local-linux", "--expires-days", "1").exit_code == 0


def cells(client):  # type: ignore[no-untyped-def]
    return [(r["site"]["name"], r["cells"], r["other"]) for r in client.get("/api/v1/summary").json["rows"]]


def test_runs_delete_a_poisoned_run_and_a_time_range_with_a_dry_run(app, client, token, other_token):
    """F1/F3: what one bad upload stored can be removed; the cells it held fall back to the
    newest remaining run with a recomputed streak, and the other site is untouched."""
    from dashboard_server.db import run_write
    from dashboard_server.models import Run
    from tests.support.attacks import shared_world

    shared_world(app, client, token, other_token)
    before = client.get("/api/v1/summary").json
    cells_before = cells(client)
    poisoned = make_run(suites={"psij": {"t": "passed"}, "parsl": {"t": "failed"}})
    assert upload(client, token, poisoned).status_code == 200
    number = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]["id"]
    # a run that slipped in with a date far ahead, as before the future-timestamp check
    run_write(app.extensions["sdk_dashboard"]["sessionmaker"],
              lambda s: setattr(s.get(Run, number), "started_at", now() + timedelta(days=900)))

    dry = invoke(app, "runs", "delete", "local-linux", "--run", str(number), "--dry-run")
    assert dry.exit_code == 0 and "would delete 1 run(s) with 2 test result(s)" in dry.output, dry.output
    assert client.get("/api/v1/sites/local-linux/runs").json["total"] == 4
    done = invoke(app, "runs", "delete", "local-linux", "--run", str(number))
    assert done.exit_code == 0 and "deleted 1 run(s)" in done.output, done.output
    assert cells(client) == cells_before
    assert upload(client, token, poisoned).json["accepted"] == len(poisoned)  # its records may come again

    since = (now() - timedelta(days=10)).strftime("%Y-%m-%d")
    assert "would delete 4 run(s)" in invoke(app, "runs", "delete", "local-linux", "--since", since,
                                             "--dry-run").output
    assert "deleted 4 run(s)" in invoke(app, "runs", "delete", "local-linux", "--since", since).output
    rows = {r["site"]["name"]: r for r in client.get("/api/v1/summary").json["rows"]}
    assert rows["local-linux"]["cells"] == {}
    assert rows["llnl-dane"] == next(r for r in before["rows"] if r["site"]["name"] == "llnl-dane")
    assert invoke(app, "runs", "delete", "local-linux").exit_code == 2  # nothing said: usage error
    assert invoke(app, "runs", "delete", "no-such-site", "--run", "1").exit_code == 1
