"""Malformed and hostile uploads get a clear 4xx JSON error, never a 5xx."""

from __future__ import annotations

import json

import pytest

from dashboard_server import create_app
from exaworks_sdk.records import MAX_TEXT
from tests.support.dashboard import auth, load_fixture, make_run, upload


def post_raw(client, token, body: bytes, content_type="application/json", path="/api/v1/records"):
    return client.post(path, data=body, content_type=content_type, headers=auth(token))


def assert_client_error(response, status=None, code=None):
    assert 400 <= response.status_code < 500, (response.status_code, response.data[:300])
    if status:
        assert response.status_code == status, response.json
    error = response.json["error"]
    assert error["message"] and error["code"]
    if code:
        assert error["code"] == code, error


@pytest.mark.parametrize("body, code", [
    (b"{", "invalid_json"),
    (b"not json at all", "invalid_json"),
    (b'{"records": [1, 2', "invalid_json"),
    (b"\xff\xfe\x00{}", "invalid_utf8"),
    (b'{"records": "abc"}', "invalid_body"),
    (b"[]", "invalid_body"),
    (b'{"records": []}', "empty_batch"),
    (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
    (b'{"records": [' + b'{"a":' * 50 + b"1" + b"}" * 50 + b"]}", "too_deep"),
    (b'{"records": [{"duration": NaN}]}', "invalid_json"),
    (b'{"records": [{"duration": Infinity}]}', "invalid_json"),
])
def test_bad_bodies(client, token, body, code):
    assert_client_error(post_raw(client, token, body), code=code)


def test_wrong_content_type(client, token):
    assert_client_error(post_raw(client, token, b"{}", "text/plain"), 415)


def test_invalid_records_are_all_reported(client, token):
    records = make_run()
    records[1]["status"] = "maybe"
    records[2]["duration"] = "fast"
    del records[0]["site"]
    records.append({"type": "nonsense", "id": "x" * 8, "run_id": "y" * 8})
    records.append("not an object")
    response = upload(client, token, records)
    assert_client_error(response, 422, "invalid_records")
    details = response.json["error"]["details"]
    assert {d["record"] for d in details} == {0, 1, 2, len(records) - 2, len(records) - 1}


@pytest.mark.parametrize("field, value", [
    ("started_at", "yesterday"), ("started_at", "2024-01-31 10:00:00"),  # naive: no offset
    ("started_at", "0001-01-01T00:00:00+14:00"), ("started_at", 10**20), ("started_at", None),
    ("started_at", "1900-01-01T00:00:00Z"), ("run_id", "short"), ("run_id", "has space!"),
    ("site", ""), ("site", 5), ("components", []), ("id", None),
])
def test_wrong_types_and_garbage_timestamps(client, token, field, value):
    records = make_run()
    records[0][field] = value
    assert_client_error(upload(client, token, records), 422)


def test_out_of_range_numbers(client, token):
    records = make_run()
    records[-1]["exit_code"] = 2**40
    assert_client_error(upload(client, token, records), 422)
    records = make_run()
    records[1]["duration"] = -1
    assert_client_error(upload(client, token, records), 422)


@pytest.mark.parametrize("where", ["output", "test_id", "suite", "message"])
def test_nul_characters(client, token, where):
    records = make_run()
    records[1][where] = "abc\x00def"
    assert_client_error(upload(client, token, records), 400, "nul_character")


def test_nul_in_keys_and_legacy(client, token, other_token):
    records = make_run()
    records[0]["environment"] = {"bad\x00key": 1}
    assert_client_error(upload(client, token, records), 400, "nul_character")
    body = load_fixture("legacy/psij_test_passed.json")
    body["key"] = other_token
    body["data"]["stdout"] = "x\x00y"
    assert_client_error(client.post("/result", json=body), 400, "nul_character")


def test_lone_surrogates(client, token):
    body = json.dumps({"records": make_run()}).replace("psij", "\\ud800").encode()
    assert_client_error(post_raw(client, token, body), 400, "invalid_unicode")


def test_huge_strings(client, token):
    records = make_run(tests={"t": "failed"})
    records[1]["output"] = "x" * (MAX_TEXT + 1)
    assert_client_error(upload(client, token, records), 422)
    records[1]["output"] = "x" * MAX_TEXT  # at the limit is fine
    assert upload(client, token, records).status_code == 200


def test_oversized_body_is_413_json(app, client, token):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    for path in ("/api/v1/records", "/result", "/api/v1/junit?run_id=abcdefgh"):
        response = post_raw(client, token, b"{" + b" " * 20_000 + b"}", path=path)
        assert_client_error(response, 413)


def test_legacy_hostile(client, other_token):
    for body in (b"[]", b"null", b'"x"', b"{", b'{"id": [], "key": "k", "data": {}}',
                 b'{"id": "llnl-dane", "key": null, "data": {}}'):
        assert_client_error(client.post("/result", data=body, content_type="application/json"))


def test_get_on_write_endpoints(client):
    assert client.get("/api/v1/records").status_code == 405
    assert client.get("/result").status_code == 405


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2",
    "sqlite:////nonexistent-dir/for/sure/dashboard.sqlite",
])
def test_database_down_is_503(url):
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    client = app.test_client()
    health = client.get("/api/v1/health")
    assert health.status_code == 503 and health.json["error"]["code"] == "database_unavailable"
    assert health.headers["Retry-After"]
    response = client.post("/api/v1/records", json={"records": make_run()},
                           headers=auth("0123456789ab:secret"))
    assert response.status_code == 503
    page = client.get("/")
    assert page.status_code == 503 and page.mimetype == "text/html"


@pytest.mark.parametrize("path", [
    "/api/v1/sites/a%00b", "/sites/a%00b", "/api/v1/tests/a%00b/t", "/badges/sites/a%00b.svg",
    "/api/v1/tests?suite=a%00b&test_id=t", "/tests/?suite=psij&test=a%00b", "/api/v1/summary?x%00=1",
    "/api/v1/sites/local-linux/runs/abcd%00efgh",
])
def test_nul_in_the_url_is_400(client, token, path):
    """PostgreSQL cannot compare text with a NUL in it: found by schemathesis as a 500."""
    response = client.get(path)
    assert response.status_code == 400, (path, response.status_code)
    if path.startswith("/api/"):
        assert response.json["error"]["code"] == "nul_character"
