"""Tokens never appear in logs, answers, records or pages: not when refused, not when a suite
dumps its environment, not in the dashboard's logs at DEBUG level."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from exaworks_sdk.records import RunStart, new_id, read_records, utcnow
from test_harness.detect import detect_all
from test_harness.runner import Runner
from test_harness.sandbox import suite_environment
from test_harness.suite import suite
from tests.support.dashboard import auth, make_run, upload

FIXTURES = Path(__file__).parent / "fixtures"


def test_suites_do_not_inherit_the_upload_token(tmp_path):
    env = suite_environment(tmp_path, {"SDK_DASHBOARD_TOKEN": "0123456789ab:s3cret", "PATH": "/usr/bin",
                                       "SDK_DASHBOARD_URL": "https://dash.example"})
    assert "SDK_DASHBOARD_TOKEN" not in env
    assert env["SDK_DASHBOARD_URL"] == "https://dash.example"  # only the secret is withheld


@pytest.mark.slow
def test_a_suite_dumping_its_environment_leaks_no_token(app, client, token, tmp_path, monkeypatch):
    """The harness holds the token in its environment (CI variables); a failing test that prints
    os.environ must not carry it into the record, and so not onto the run page."""
    secret = token.split(":", 1)[1]
    monkeypatch.setenv("SDK_DASHBOARD_TOKEN", token)
    records = tmp_path / "run.jsonl"
    dump = suite("env-dump", "suite_env_dump.py", (), "prints its environment", base=FIXTURES)
    start = RunStart(id=new_id(), run_id=new_id(), site="local-linux", started_at=utcnow())
    Runner({}, detect_all({})).run([dump], records, start)
    failed = [r for r in read_records(records) if getattr(r, "status", None) == "failed"]
    assert failed and "SDK_SUITE_SANDBOX=" in failed[0].output, "the fixture suite did not dump its environment"
    assert secret not in records.read_text()
    assert secret not in (tmp_path / "run.logs" / "env-dump.log").read_text()

    body = [r.to_dict() for r in read_records(records)]
    assert upload(client, token, body).status_code == 200
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]["id"]
    for path in (f"/runs/{run}", f"/api/v1/runs/{run}", "/", "/sites/local-linux"):
        assert secret not in client.get(path).get_data(as_text=True), path


def test_refusals_and_logs_never_echo_a_token(app, client, token, other_token, caplog):
    """Every way of presenting a token wrongly: the answer names the problem, never the secret."""
    caplog.set_level(logging.DEBUG)
    key_id, secret = token.split(":", 1)
    _, other_secret = other_token.split(":", 1)
    responses = [
        upload(client, token, make_run()),  # accepted
        upload(client, other_token, make_run(site="local-linux")),  # wrong site
        upload(client, f"{key_id}:{secret}x", make_run()),  # near miss
        upload(client, f"{key_id}{secret}", make_run()),  # no separator
        client.post("/api/v1/records", json={"records": make_run()}, headers={"Authorization": token}),
        client.post("/api/v1/records", data=f'{{"records": [{{"key": "{secret}"}}]}}',
                    content_type="application/json", headers=auth(token)),  # token inside a bad record
        client.post("/api/v1/records", data=b"\xff" + secret.encode(), content_type="application/json",
                    headers=auth(token)),
        client.post("/result", json={"id": "llnl-dane", "key": token, "data": {"module": "m"}}),
        client.post("/result", json={"id": "local-linux", "key": token + "x", "data": {"module": "m"}}),
        client.post("/result", json={"id": "local-linux", "key": token, "data": secret}),
        client.post("/result", json={"id": "local-linux", "key": [token], "data": {}}),
        client.post(f"/api/v1/junit?run_id=abcdefgh&suite={secret}\x00", headers=auth(token), data=b"<x/>"),
        client.post("/api/v1/junit?run_id=abcdefgh", headers=auth(f"{key_id}:{other_secret}"),
                    data=b'<testsuite name="s"><testcase name="t"/></testsuite>'),
    ]
    assert responses[0].status_code == 200
    assert all(400 <= r.status_code < 500 for r in responses[1:]), [r.status_code for r in responses]
    for response in responses:
        text = response.get_data(as_text=True) + str(dict(response.headers))
        assert secret not in text and other_secret not in text, text[:300]
    assert secret not in caplog.text and other_secret not in caplog.text
