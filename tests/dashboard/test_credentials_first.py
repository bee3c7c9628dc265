"""Credentials before work (issue #15, F2 and F13): every write path checks its credential before
it reads or parses the body and before it takes a write lock; a missing credential is 401, never
422; failed authentications are rate-limited per credential and per address."""

from __future__ import annotations

import io
import json
import sqlite3
import time

import pytest

from dashboard_server import create_app
from tests.support.attacks import legacy_body
from tests.support.dashboard import auth, make_run, upload

BEARER_PATHS = ("/api/v1/records", "/api/v1/junit?run_id=abcdefgh")


class Untouchable(io.RawIOBase):
    """A request body that records whether anyone read it."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        self.reads += 1
        buffer[:1] = b"{"
        return 1


@pytest.mark.parametrize("path", BEARER_PATHS)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer 0123456789ab:wrong"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_the_body_is_not_read_without_a_valid_credential(client, token, path, headers):
    body = Untouchable()
    response = client.post(path, content_type="application/json", headers=headers,
                           environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": "14000000"})
    assert response.status_code == 401 and body.reads == 0, (response.status_code, body.reads)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", BEARER_PATHS)
@pytest.mark.parametrize("body, content_type", [
    (b"not json", "application/json"), (b'{"records": []}', "application/json"), (b"", "application/json"),
    (b"<x/>", "text/plain"), (b"\xff\xfe", "application/x-ndjson"),
])
def test_missing_credential_is_401_before_any_other_error(client, path, body, content_type):
    response = client.post(path, data=body, content_type=content_type)
    assert response.status_code == 401, (response.status_code, response.json)
    assert client.post("/api/v1/junit", data=body).status_code == 401  # no run_id either


def test_legacy_key_is_checked_before_data_is_validated(client, other_token):
    body = legacy_body("psij_test_passed", "llnl-dane", other_token)
    no_key = {k: v for k, v in body.items() if k != "key"}
    assert client.post("/result", json=dict(no_key, data="garbage")).status_code == 401
    assert client.post("/result", json=dict(body, key="x" * 40, data="garbage")).status_code == 403
    assert client.post("/result", json=dict(body, data="garbage")).status_code == 400  # key fine: now data


def test_a_refused_credential_takes_no_write_lock(app, client, token, db_url):
    """With the SQLite write lock held elsewhere, a bad credential is refused at once; before, the
    request queued on BEGIN IMMEDIATE for the busy timeout and then failed with 503."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 3000
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        for headers in ({}, {"Authorization": "Bearer 0123456789ab:wrong"}):
            response = client.post("/api/v1/records", json={"records": make_run()}, headers=headers)
            assert response.status_code == 401
        legacy = client.post("/result", json={"id": "local-linux", "key": "not-a-key-at-all-0000", "data": {}})
        assert legacy.status_code == 403
        assert time.monotonic() - started < 2.5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert upload(client, token, make_run()).status_code == 200


def test_failed_authentications_are_limited_per_credential(app, client, token):
    key_id = token.split(":")[0]
    for _ in range(10):
        assert upload(client, f"{key_id}:guess", make_run()).status_code == 401
    limited = upload(client, f"{key_id}:guess", make_run())
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert limited.json["error"]["code"] == "too_many_failed_logins"
    assert upload(client, token, make_run()).status_code == 429  # the guessed key id is locked for now
    other = "0123456789ab:whatever"  # another credential from the same address is not (yet)
    assert upload(client, other, make_run()).status_code == 401


def test_failed_authentications_are_limited_per_address_and_configurable(app, client, token, other_token):
    strict = create_app(dict(app.config, AUTH_FAILURES_PER_ADDRESS="3 per minute",
                             AUTH_FAILURES_PER_CREDENTIAL="100 per minute"))
    try:
        c = strict.test_client()
        for guess in range(3):
            assert upload(c, f"{guess:012x}:x", make_run()).status_code == 401
        assert upload(c, f"{99:012x}:x", make_run()).status_code == 429
        assert upload(c, token, make_run()).status_code == 429  # the address is locked out for now
        other_address = c.post("/api/v1/records", json={"records": make_run()}, headers=auth(token),
                               environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert other_address.status_code == 200
        # read logins count too
        strict.config.update(REQUIRE_LOGIN=True, VIEWER_PASSWORD="look")
        reader = {"REMOTE_ADDR": "10.9.9.9"}
        for _ in range(3):
            assert c.get("/api/v1/summary", auth=("u", "wrong"), environ_base=reader).status_code == 401
        assert c.get("/api/v1/summary", auth=("u", "look"), environ_base=reader).status_code == 429
    finally:
        strict.extensions["sdk_dashboard"]["engine"].dispose()


def test_successful_uploads_and_reads_are_never_limited(client, token):
    for _ in range(40):
        assert upload(client, token, make_run()).status_code == 200
        assert client.get("/api/v1/summary").status_code == 200
    assert json.loads(client.get("/api/v1/sites/local-linux/runs").data)["total"] == 40


def test_only_refused_credentials_count(client, token, other_token):
    """A valid token used wrongly (another site's run: 403), bad data (422) and requests with no
    credential at all (401 at no cost) are not failed authentications; nor does a body key's
    refusal on /result count against the Bearer header that request happens to carry."""
    for _ in range(15):
        assert upload(client, token, make_run("llnl-dane")).status_code == 403
        assert upload(client, token, [{"type": "nonsense"}]).status_code == 422
        assert client.post("/api/v1/records", json={"records": make_run()}).status_code == 401
    for _ in range(12):
        body = legacy_body("psij_test_passed", "llnl-dane", "not-a-key-0000-0000")
        assert client.post("/result", json=body, headers=auth(token)).status_code == 403
    assert upload(client, token, make_run()).status_code == 200
    legacy = client.post("/result", json=legacy_body("psij_test_passed", "llnl-dane", other_token))
    assert legacy.status_code == 200
