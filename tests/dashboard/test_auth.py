"""Auth boundaries beyond uploads: the login switch, secrets never stored, shown or logged."""

from __future__ import annotations

import base64
import logging
import statistics
import time

import pytest
from sqlalchemy import select

from dashboard_server import create_app, tokens
from dashboard_server.models import Site, Token
from tests.support.dashboard import add_site, auth, make_run, upload, write


def basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"viewer:{password}".encode()).decode()}


@pytest.fixture
def private_app(app_config):
    app = create_app(dict(app_config, REQUIRE_LOGIN=True, VIEWER_PASSWORD="look", ADMIN_PASSWORD="root"))
    yield app
    app.extensions["sdk_dashboard"]["engine"].dispose()


def test_reads_are_public_by_default(client, token):
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/summary").status_code == 200


def test_login_switch(private_app):
    client = private_app.test_client()
    for path in ("/", "/sites/x", "/api/v1/summary", "/api/v1/sites", "/badges/suites/psij.svg"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert client.get(path, headers=basic("wrong")).status_code == 401
    assert client.get("/", headers=basic("look")).status_code == 200
    assert client.get("/api/v1/summary", headers=basic("root")).status_code == 200
    # health and the API description stay reachable for monitors and clients
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_uploads_work_with_login_on_and_need_a_token(private_app):
    add_site(private_app, "local-linux")
    token = write(private_app, lambda s: tokens.issue(
        s, s.scalar(select(Site).where(Site.name == "local-linux")))).token
    client = private_app.test_client()
    assert upload(client, token, make_run()).status_code == 200
    # a viewer password is not an upload credential
    assert client.post("/api/v1/records", json={"records": make_run()}, headers=basic("root")).status_code == 401


def test_only_hashes_are_stored(app, token):
    secret = token.split(":", 1)[1]
    with app.extensions["sdk_dashboard"]["sessionmaker"]() as session:
        row = session.scalar(select(Token))
        assert row.secret_hash == tokens.hash_secret(secret)
        assert secret not in repr(row.__dict__)


def test_tokens_never_appear_in_logs_or_pages(app, client, token, caplog):
    caplog.set_level(logging.DEBUG)
    key_id, secret = token.split(":", 1)
    upload(client, token, make_run())
    client.post("/api/v1/records", json={"records": make_run()}, headers=auth(key_id + ":wrong"))
    client.post("/result", json={"id": "local-linux", "key": token, "data": {"module": "m"}})
    pages = "".join(client.get(p).get_data(as_text=True) for p in ("/", "/sites/local-linux"))
    assert secret not in caplog.text and secret not in pages


@pytest.mark.slow
def test_token_check_time_does_not_depend_on_the_match(app, token):
    """A wrong secret for a real key id and an unknown key id take about as long as a near-miss."""
    key_id, secret = token.split(":", 1)
    sessionmaker = app.extensions["sdk_dashboard"]["sessionmaker"]
    candidates = {
        "near-miss": f"{key_id}:{secret[:-1]}X",
        "far-miss": f"{key_id}:{'A' * len(secret)}",
        "unknown-key": f"{'0' * 12}:{secret}",
    }
    timings: dict[str, list[float]] = {name: [] for name in candidates}
    with sessionmaker() as session:
        for _ in range(60):
            for name, presented in candidates.items():
                began = time.perf_counter()
                with pytest.raises(tokens.AuthError):
                    tokens.verify(session, presented)
                timings[name].append(time.perf_counter() - began)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    assert max(medians.values()) < 3 * min(medians.values()), medians
