"""Script payloads in names reach no page unescaped: badges (SVG), error pages that echo what was
asked for, and the legacy and JUnit upload paths (tests/dashboard/test_pages.py covers records)."""

from __future__ import annotations

from urllib.parse import quote
from xml.etree import ElementTree

from tests.support.dashboard import add_site, auth, issue_token, load_fixture

XSS = '<script>alert("x")</script>'
SITE = 'evil"><svg onload=alert(1)>'


def assert_escaped(html: str, where: str) -> None:
    assert "<script>" not in html and "<svg onload" not in html, where


def test_badges_escape_names(app, client):
    add_site(app, SITE)
    suite = '"><img src=x onerror=alert(1)>'  # no "/": a suite name is one path segment here
    for path in (f"/badges/sites/{quote(SITE, safe='')}.svg", f"/badges/suites/{quote(suite, safe='')}.svg"):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        svg = ElementTree.fromstring(response.data)  # still well-formed XML
        assert not [e for e in svg.iter() if e.tag.rsplit("}", 1)[-1] in ("script", "foreignObject")], path
        assert not any(a.startswith("on") for e in svg.iter() for a in e.attrib), path
        assert not [e for e in svg.iter() if e.tag.rsplit("}", 1)[-1] in ("img", "svg")][1:], path
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_error_pages_escape_what_was_asked_for(client):
    for path in (f"/sites/{quote(XSS, safe='')}", f"/tests/?suite={quote(XSS)}&test={quote(XSS)}",
                 f"/sites/{quote(SITE, safe='')}", f"/runs/1?page={quote(XSS)}"):
        response = client.get(path)
        assert 400 <= response.status_code < 500 and response.mimetype == "text/html", path
        assert_escaped(response.get_data(as_text=True), path)


def test_legacy_and_junit_payloads_are_escaped(app, client):
    app.config["EXTRA_SUITES"] = XSS  # a summary column of its own, so the summary shows the name
    add_site(app, SITE)
    token = issue_token(app, SITE)
    body = load_fixture("legacy/psij_test_passed.json")
    body.update(id=SITE, key=token)
    body["data"].update(module=XSS, function=XSS, stdout=XSS, stderr=XSS)
    assert client.post("/result", json=body).status_code == 200, client.post("/result", json=body).json
    junit = (f'<testsuite name="{XSS.replace("<", "&lt;").replace(chr(34), "&quot;")}">'
             f'<testcase classname="c" name="{XSS.replace("<", "&lt;").replace(chr(34), "&quot;")}">'
             f'<failure message="m">{XSS.replace("<", "&lt;")}</failure></testcase></testsuite>').encode()
    assert client.post("/api/v1/junit?run_id=junit-xss-run", data=junit, headers=auth(token)).status_code == 200
    runs = client.get(f"/api/v1/sites/{quote(SITE, safe='')}/runs").json["runs"]
    assert len(runs) == 2
    pages = ["/", f"/sites/{quote(SITE, safe='')}"] + [f"/runs/{r['id']}" for r in runs]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert_escaped(html, path)
        assert "&lt;script&gt;" in html or path == f"/sites/{quote(SITE, safe='')}", path
