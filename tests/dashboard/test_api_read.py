"""Read API: summary, sites, runs, test history, health, on both databases."""

from __future__ import annotations

from datetime import timedelta

from dashboard_server import schemas
from tests.support.dashboard import make_run, now, upload


def test_summary_shows_latest_per_site_variant_suite(client, token, other_token):
    old = make_run(tests={"t1": "failed"}, started_at=now() - timedelta(days=2))
    new = make_run(tests={"t1": "passed"}, started_at=now() - timedelta(hours=1))
    upload(client, token, new)
    upload(client, token, old)  # arriving late must not replace the newer run
    upload(client, token, make_run(tests={"t9": "failed"}, suite="parsl", variant="spack"))
    upload(client, other_token, make_run("llnl-dane", tests={"t1": "error"}))

    summary = schemas.SummaryOut.model_validate(client.get("/api/v1/summary").json)
    assert summary.suites == ["parsl", "psij"]
    cells = {(r.site.name, r.variant): {k: c.status for k, c in r.cells.items()} for r in summary.rows}
    assert cells == {
        ("llnl-dane", "pip"): {"psij": "error"},
        ("local-linux", "pip"): {"psij": "passed"},
        ("local-linux", "spack"): {"parsl": "failed"},
    }
    local = next(r for r in summary.rows if r.site.name == "local-linux" and r.variant == "pip")
    assert local.cells["psij"].history == ["failed", "passed"]
    assert local.site.stale is False


def test_site_without_results_is_stale(client, token):
    site = client.get("/api/v1/sites").json[0]
    assert site["name"] == "local-linux" and site["stale"] is True and site["last_seen_at"] is None


def test_site_runs_paginate_without_caps(client, token):
    start = now() - timedelta(days=400)
    batch = []
    for day in range(120):
        batch += make_run(tests={"t": "passed"}, started_at=start + timedelta(days=day))
    assert upload(client, token, batch).status_code == 200
    first = client.get("/api/v1/sites/local-linux/runs?per_page=50").json
    assert first["total"] == 120 and first["pages"] == 3
    last = client.get("/api/v1/sites/local-linux/runs?per_page=50&page=3").json
    assert len(last["runs"]) == 20
    assert last["runs"][-1]["started_at"] < first["runs"][0]["started_at"]


def test_test_history_and_flaky(client, token, other_token):
    start = now() - timedelta(days=10)
    for day, status in enumerate(["passed", "failed", "passed", "failed", "passed"]):
        upload(client, token, make_run(tests={"test_flip": status}, started_at=start + timedelta(days=day)))
    for day in range(3):
        upload(client, other_token, make_run("llnl-dane", tests={"test_flip": "passed"},
                                             started_at=start + timedelta(days=day)))
    history = client.get("/api/v1/tests/psij/test_flip").json
    assert history["total"] == 8 and history["flaky"] is True
    groups = {g["site"]: (g["flips"], g["flaky"]) for g in history["groups"]}
    assert groups == {"local-linux": (4, True), "llnl-dane": (0, False)}
    same = client.get("/api/v1/tests?suite=psij&test_id=test_flip").json
    assert same["total"] == 8


def test_lookup_by_client_run_id(client, token):
    records = make_run()
    upload(client, token, records)
    found = client.get(f"/api/v1/sites/local-linux/runs/{records[0]['run_id']}").json
    assert [r["run_id"] for r in found] == [records[0]["run_id"]]


def test_not_found(client, token):
    for path in ("/api/v1/sites/nowhere", "/api/v1/sites/nowhere/runs", "/api/v1/runs/999",
                 "/api/v1/runs/99999999999999999999", "/api/v1/runs/0",
                 "/api/v1/tests/psij/nothing", "/api/v1/sites/local-linux/runs/unknown-run"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json["error"]["code"] == "not_found"


def test_bad_query_parameters(client, token):
    for query in ("page=0", "page=-1", "page=abc", "per_page=100000", "page=1e3"):
        response = client.get(f"/api/v1/sites/local-linux/runs?{query}")
        assert response.status_code == 400, query


def test_health(client):
    body = client.get("/api/v1/health").json
    from dashboard_server.migrate import head_revision

    assert body == {"status": "ok", "database": "ok", "schema_revision": head_revision()}


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.delete("/api/v1/summary").status_code == 405
