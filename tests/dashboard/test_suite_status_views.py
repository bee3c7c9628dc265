"""A run carries several suites (the harness uploads all of a site's suites in one run): every view
shows each suite's own status in it, never the whole run's (exaworks_sdk.status)."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.support.dashboard import make_run, now, upload


def _two_runs(client, token, other_token):
    """Two runs at local-linux (parsl passes in both, flux fails in the second), and a third
    site whose parsl fails, so nothing can leak between sites or suites."""
    t0 = now() - timedelta(hours=2)
    upload(client, token, make_run(started_at=t0, suites={
        "parsl": {"test_apps": "passed", "test_htex": "passed"}, "flux": {"test_submit": "passed"}}))
    upload(client, token, make_run(started_at=t0 + timedelta(hours=1), suites={
        "parsl": {"test_apps": "passed", "test_htex": "skipped"}, "flux": {"test_submit": "failed"},
        "psij": {"test_local": "known"}}))
    upload(client, other_token, make_run("llnl-dane", suites={"parsl": {"test_apps": "failed"}}))


def test_cells_sparklines_and_json(client, token, other_token):
    _two_runs(client, token, other_token)
    summary = client.get("/api/v1/summary").json
    cells = {(row["site"]["name"], suite): cell for row in summary["rows"] for suite, cell in row["cells"].items()}
    assert cells[("local-linux", "parsl")]["status"] == "passed"
    assert cells[("local-linux", "parsl")]["counts"]["failed"] == 0
    assert cells[("local-linux", "parsl")]["history"] == ["passed", "passed"]
    assert cells[("local-linux", "parsl")]["failing_since"] is None
    assert cells[("local-linux", "flux")]["status"] == "failed"
    assert cells[("local-linux", "flux")]["history"] == ["passed", "failed"]
    assert cells[("local-linux", "psij")]["status"] == "known"
    assert cells[("llnl-dane", "parsl")]["status"] == "failed"

    site = client.get("/api/v1/sites/local-linux").json
    assert {c["suite"]: c["status"] for c in site["latest"]} == {"flux": "failed", "parsl": "passed",
                                                                  "psij": "known"}
    newest = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]
    assert newest["status"] == "failed"  # the run as a whole did fail
    run = client.get(f"/api/v1/runs/{newest['id']}").json
    assert run["suites"] == {"flux": "failed", "parsl": "passed", "psij": "known"}


def test_pages_and_badges(client, token, other_token):
    _two_runs(client, token, other_token)
    html = client.get("/").get_data(as_text=True)
    row = re.search(r'<tr data-site="local-linux".*?</tr>', html, re.S).group(0)
    assert 'title="parsl at local-linux: passed"' in row
    assert 'title="flux at local-linux: failed"' in row
    assert 'aria-label="recent: passed, passed"' in row  # parsl's sparkline ends in passed
    site_html = client.get("/sites/local-linux").get_data(as_text=True)
    parsl_row = re.search(r"<tr><td>parsl</td>.*?</tr>", site_html, re.S).group(0)
    assert "status-passed" in parsl_row and "status-failed" not in parsl_row
    assert "status-known" in site_html

    assert "flux: failed" in client.get("/badges/suites/flux.svg").get_data(as_text=True)
    # parsl passed here but failed at llnl-dane: the suite badge shows the worst site
    assert "parsl: failed" in client.get("/badges/suites/parsl.svg").get_data(as_text=True)
    assert "psij: known" in client.get("/badges/suites/psij.svg").get_data(as_text=True)
    assert "local-linux: failed" in client.get("/badges/sites/local-linux.svg").get_data(as_text=True)


def test_a_finished_run_without_tests_is_an_error(client, token):
    upload(client, token, make_run(suites={}))
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]
    assert run["status"] == "error"
    assert sum(run["counts"].values()) == 0
