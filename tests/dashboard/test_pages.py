"""Server-rendered pages: right statuses, links, escaping, ANSI colours, badges."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree

from tests.support.dashboard import add_site, issue_token, make_run, now, upload

XSS = '<script>alert("x")</script>'


def run_number(client, site="local-linux"):
    return client.get(f"/api/v1/sites/{site}/runs").json["runs"][0]["id"]


def test_summary_matrix(client, token, other_token):
    upload(client, token, make_run(tests={"a": "passed"}))
    upload(client, other_token, make_run("llnl-dane", tests={"a": "failed"}))
    html = client.get("/").get_data(as_text=True)
    assert "LLNL" in html and "local" in html  # facility groups
    assert re.search(r'cell-passed.*?href="/runs/\d+"', html, re.S)
    assert 'class="status status-failed"' in html
    assert "<svg class=\"spark\"" in html
    assert "slurm" in html  # scheduler


def test_empty_summary(client):
    html = client.get("/").get_data(as_text=True)
    assert "No sites yet" in html


def test_stale_mark(client, app):
    add_site(app, "quiet-site", facility="NERSC", expected_interval_hours=1)
    upload(client, issue_token(app, "quiet-site"), make_run("quiet-site"))
    assert 'class="stale"' not in client.get("/").get_data(as_text=True)
    from dashboard_server.models import Site
    from tests.support.dashboard import write

    def age(session):
        session.query(Site).filter_by(name="quiet-site").one().last_seen_at = now() - timedelta(hours=3)

    write(app, age)
    assert 'class="stale"' in client.get("/").get_data(as_text=True)


def test_run_page(client, token):
    upload(client, token, make_run(tests={"test_ok": "passed", "test_bad": "failed"},
                                   output="\x1b[31mred error\x1b[0m plain"))
    html = client.get(f"/runs/{run_number(client)}").get_data(as_text=True)
    assert "psij-python" in html and "0.9.11" in html  # component versions
    assert "has_slurm" in html  # environment facts
    assert '<span class="ansi-fg-red">red error</span> plain' in html
    assert "AssertionError: boom" in html
    assert "1.50 s" in html


def test_unfinished_run_page(client, token):
    upload(client, token, make_run(finished=False))
    html = client.get(f"/runs/{run_number(client)}").get_data(as_text=True)
    assert "status-unfinished" in html and "unfinished / interrupted" in html
    assert "status-passed\">passed</span> <span class=\"counts" not in html


def test_html_is_escaped_everywhere(client, app):
    site = 'evil"><img src=x onerror=alert(1)>'
    app.config["EXTRA_SUITES"] = XSS  # a summary column of its own, so the summary shows the name
    add_site(app, site, facility=XSS, scheduler=XSS)
    token = issue_token(app, site)
    records = make_run(site, tests={XSS: "failed"}, suite=XSS, output=f"{XSS}\x1b[1m{XSS}\x1b[0m")
    assert upload(client, token, records).status_code == 200
    run = client.get("/api/v1/summary").json["rows"][0]["cells"][XSS]["run"]
    for path in ("/", f"/runs/{run}", f"/sites/{site}", "/tests/?suite=" + XSS + "&test=" + XSS):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html, path
        assert "<img src=x" not in html, path
        assert "&lt;script&gt;" in html, path


def test_site_page_paginates(client, token, app):
    app.config["RUNS_PER_PAGE"] = 5
    start = now() - timedelta(days=30)
    batch = []
    for day in range(12):
        batch += make_run(tests={"t": "passed"}, started_at=start + timedelta(days=day))
    upload(client, token, batch)
    html = client.get("/sites/local-linux").get_data(as_text=True)
    assert "page 1 of 3" in html and 'rel="next"' in html
    assert "page 3 of 3" in client.get("/sites/local-linux?page=3").get_data(as_text=True)


def test_test_history_page_flags_flaky(client, token):
    start = now() - timedelta(days=5)
    for day, status in enumerate(["passed", "failed", "passed", "failed"]):
        upload(client, token, make_run(tests={"t": status}, started_at=start + timedelta(days=day)))
    html = client.get("/tests/?suite=psij&test=t").get_data(as_text=True)
    assert "FLAKY" in html


def test_badges(client, token):
    upload(client, token, make_run(tests={"a": "failed"}))
    for path in ("/badges/sites/local-linux.svg", "/badges/suites/psij.svg"):
        response = client.get(path)
        assert response.mimetype == "image/svg+xml"
        svg = ElementTree.fromstring(response.data)
        assert "failed" in "".join(svg.itertext())
    unknown = client.get("/badges/sites/nowhere.svg")
    assert "unknown" in unknown.get_data(as_text=True)


def test_page_errors_are_html(client):
    response = client.get("/sites/nowhere")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "no site named" in response.get_data(as_text=True)
    assert client.get("/tests/").status_code == 400
