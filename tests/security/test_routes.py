"""The dashboard's HTTP surface, walked from ``app.url_map``: the only writes are the three
upload endpoints and each needs a site token; administration (sites, tokens, retention) is a
``flask`` CLI command with no HTTP route; no page has a form, so there is nothing for CSRF to
ride on (the test fails, and says what to add, the day a form appears)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from werkzeug.routing import Rule

from dashboard_server import create_app
from tests.support.dashboard import add_site, auth, make_run, upload

UPLOADS = {"api.upload_records", "api.upload_junit", "api.legacy_result"}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
TEMPLATES = Path(create_app.__code__.co_filename).parent / "templates"
SAMPLE = {"site": "local-linux", "run": "1", "run_id": "abcdefgh", "suite": "psij", "test_id": "t",
          "filename": "style.css", "version": "2026.11"}


def sample_url(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: SAMPLE[m.group(1)], rule.rule)


def rules(app) -> list[Rule]:  # type: ignore[no-untyped-def]
    return list(app.url_map.iter_rules())


def test_the_only_writes_are_the_upload_endpoints(app):
    writers = {rule.endpoint for rule in rules(app) if set(rule.methods or ()) - READ_METHODS}
    assert writers == UPLOADS, "a new write route needs a token check and a test in tests/security"


def test_no_admin_route_exists(app):
    """Sites, tokens, legacy keys and retention are managed with `sdk-dashboard …` on the server only."""
    for rule in rules(app):
        assert not re.search(r"admin|token|key|retention|migrat|delete", rule.rule, re.I), rule.rule
    commands = set(app.cli.commands)
    assert {"sites", "tokens", "legacy-keys", "retention", "db", "releases"} <= commands


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_methods_are_refused_everywhere(app, client, token, method):
    for rule in rules(app):
        response = client.open(sample_url(rule), method=method, headers=auth(token), json={})
        assert response.status_code == 405, (method, rule.rule, response.status_code)


def test_writes_without_a_site_token_are_refused(app, client, token):
    """No credential, garbage, a viewer or admin password (a read login, not a write right):
    401/403 from every write route, and nothing is stored."""
    private = create_app(dict(app.config, REQUIRE_LOGIN=True, VIEWER_PASSWORD="look", ADMIN_PASSWORD="root"))
    records = make_run()
    basic = {"Authorization": "Basic " + base64.b64encode(b"admin:root").decode()}
    attempts = 0
    for application in (app, private):
        test_client = application.test_client()
        for headers in ({}, basic, {"Authorization": "Bearer "}, {"Authorization": "Bearer 0123456789ab:x"},
                        {"Authorization": "Token " + token}, {"X-Api-Key": token}):
            for path, kwargs in [
                ("/api/v1/records", {"json": {"records": records}}),
                ("/api/v1/junit?run_id=abcdefgh",
                 {"data": b'<testsuite name="s"><testcase name="t"/></testsuite>'}),
                ("/result", {"json": {"id": "local-linux", "key": headers.get("Authorization", "x" * 20),
                                      "data": {"module": "m"}}}),
            ]:
                response = test_client.post(path, headers=headers, **kwargs)
                assert response.status_code in (401, 403), (path, headers, response.status_code, response.json)
                attempts += 1
    private.extensions["sdk_dashboard"]["engine"].dispose()
    assert client.get("/api/v1/sites/local-linux/runs").json["total"] == 0
    assert attempts == 36


def test_a_site_token_writes_only_for_its_site_on_every_upload_path(client, token, other_token):
    assert upload(client, other_token, make_run(site="local-linux")).status_code == 403
    legacy = client.post("/result", json={"id": "local-linux", "key": other_token, "data": {"module": "m"}})
    assert legacy.status_code == 403
    # JUnit carries no site: it lands on the token's own site, never another
    junit = client.post("/api/v1/junit?run_id=junit-run-1", headers=auth(other_token),
                        data=b'<testsuite name="s"><testcase name="t"/></testsuite>')
    assert junit.status_code == 200
    assert client.get("/api/v1/sites/local-linux/runs").json["total"] == 0
    assert client.get("/api/v1/sites/llnl-dane/runs").json["total"] == 1


def test_no_forms_so_no_csrf_surface(app, client, token):
    hint = "a form was added: protect it against CSRF (e.g. Flask-WTF CSRFProtect) and test that here"
    for template in TEMPLATES.rglob("*.html"):
        assert "<form" not in template.read_text(encoding="utf-8").lower(), f"{template.name}: {hint}"
    upload(client, token, make_run(tests={"t": "failed"}))
    add_site(app, "empty-site")
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]["id"]
    for path in ("/", "/sites/local-linux", "/sites/empty-site", f"/runs/{run}", "/tests/?suite=psij&test=t",
                 "/sites/nowhere", "/runs/999999"):
        html = client.get(path).get_data(as_text=True).lower()
        assert "<form" not in html and "method=\"post\"" not in html, f"{path}: {hint}"
    # cross-site POSTs are impossible to forge anyway: writes need an Authorization header,
    # which a browser never attaches on its own; cookies are not an upload credential
    client.set_cookie("session", "anything")
    assert client.post("/api/v1/records", json={"records": make_run()}).status_code == 401
