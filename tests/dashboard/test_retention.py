"""Retention clears old logs, keeps every status and never touches a latest run."""

from __future__ import annotations

from datetime import timedelta

from dashboard_helpers import make_run, now, upload, write
from dashboard_server.retention import prune_logs


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
