"""Retention clears old logs, keeps every status and never touches a latest run."""

from __future__ import annotations

from datetime import timedelta

from dashboard_server.retention import prune_logs
from tests.support.dashboard import make_run, now, upload, write


def test_prune_logs_keeps_statuses_and_latest_runs(app, client, token):
    old = now() - timedelta(days=40)
    upload(client, token, make_run(tests={"t": "failed"}, output="old log", started_at=old))
    upload(client, token, make_run(tests={"t": "failed"}, output="only run of parsl", suite="parsl",
                                   started_at=old))
    upload(client, token, make_run(tests={"t": "failed"}, output="new log", started_at=now()))

    assert write(app, lambda s: prune_logs(s, 30)) == 1
    runs = {r["started_at"][:10]: r for r in client.get("/api/v1/sites/local-linux/runs").json["runs"]}
    outputs = sorted(t["output"] for r in client.get("/api/v1/sites/local-linux/runs").json["runs"]
                     for t in client.get(f"/api/v1/runs/{r['id']}").json["tests"])
    assert outputs == ["", "new log", "only run of parsl"]
    assert all(r["status"] == "failed" for r in runs.values())  # statuses kept
    history = client.get("/api/v1/tests/psij/t").json
    assert [e["status"] for e in history["entries"]] == ["failed", "failed"]
    assert write(app, lambda s: prune_logs(s, 30)) == 0


def _outputs(client) -> dict[str, str]:
    """Every failed test's output, keyed by the label the test put at the start of it."""
    found = {}
    for site in ("local-linux", "llnl-dane"):
        for run in client.get(f"/api/v1/sites/{site}/runs?per_page=500").json["runs"]:
            for test in client.get(f"/api/v1/runs/{run['id']}").json["tests"]:
                found[f"{site} {run['id']} {test['suite']}"] = test["output"]
    return found


def test_latest_run_per_site_variant_and_suite_always_keeps_its_logs(app, client, token, other_token):
    """Only old runs everywhere: the newest per (site, variant, suite) keeps its logs, interrupted
    or not; older ones lose theirs; nothing else changes (runs, rows, statuses, summary)."""
    older, old = now() - timedelta(days=500), now() - timedelta(days=400)
    expected_kept, expected_cleared = set(), set()
    for tok, site in ((token, "local-linux"), (other_token, "llnl-dane")):
        for variant in ("pip", "spack"):
            for suite in ("psij", "parsl"):
                for when, label, keep in ((older, "older", False), (old, "latest", True)):
                    text = f"{label} {site} {variant} {suite}"
                    assert upload(client, tok, make_run(site, variant=variant, suite=suite, started_at=when,
                                                        tests={"t": "failed"}, output=text)).status_code == 200
                    (expected_kept if keep else expected_cleared).add(text)
    # an interrupted run that is the latest is kept; a late upload of an even older run displaces nothing
    upload(client, token, make_run(suite="flux", finished=False, started_at=old, tests={"t": "failed"},
                                   output="interrupted latest"))
    upload(client, token, make_run(suite="psij", started_at=now() - timedelta(days=600), tests={"t": "failed"},
                                   output="late and older"))
    expected_kept.add("interrupted latest")
    expected_cleared.add("late and older")
    summary_before = client.get("/api/v1/summary").json
    before = _outputs(client)

    assert write(app, lambda s: prune_logs(s, 30)) == len(expected_cleared)
    after = _outputs(client)
    assert set(after) == set(before), "retention must never delete a run or a test result"
    assert {v for v in after.values() if v} == expected_kept
    assert {before[k] for k, v in after.items() if not v} == expected_cleared
    summary_after = client.get("/api/v1/summary").json
    summary_before.pop("generated_at"), summary_after.pop("generated_at")
    assert summary_after == summary_before, "statuses, counts and history must survive retention"
    assert write(app, lambda s: prune_logs(s, 30)) == 0


def test_retention_needs_a_positive_number_of_days(app):
    runner = app.test_cli_runner()
    for days in ("0", "-3"):
        result = runner.invoke(args=["retention", "run", "--days", days])
        assert result.exit_code == 2 and "--days" in result.output, (days, result.output, result.exception)
