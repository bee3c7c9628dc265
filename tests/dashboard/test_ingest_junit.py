"""POST /api/v1/junit: JUnit XML reports, parsed safely."""

from __future__ import annotations

import pytest

from tests.support.dashboard import FIXTURES, auth

RUN = "junit-run-0001"


def post(client, token, body, **params):
    params.setdefault("run_id", RUN)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"/api/v1/junit?{query}", data=body, content_type="application/xml",
                       headers=auth(token))


def test_junit_report_becomes_a_run(client, token):
    body = (FIXTURES / "junit/pytest.xml").read_bytes()
    response = post(client, token, body, variant="spack", branch="develop")
    assert response.status_code == 200, response.json
    assert response.json == {"accepted": 4, "duplicates": 0, "runs": [RUN]}
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]
    assert run["source"] == "junit" and run["variant"] == "spack" and run["branch"] == "develop"
    assert run["counts"] == {"passed": 1, "failed": 1, "skipped": 1, "error": 1, "known": 0, "fixed": 0}
    assert run["status"] == "error"
    detail = client.get(f"/api/v1/runs/{run['id']}").json
    tests = {t["test_id"]: t for t in detail["tests"]}
    failed = tests["tests.test_maestro::test_slurm_adapter"]
    assert failed["suite"] == "maestro" and failed["duration"] == 2.0
    assert failed["message"] == "assert 'FAILED' == 'FINISHED'"
    assert "Submitted batch job 123" in failed["output"]


def test_junit_reupload_is_idempotent_and_suite_override(client, token):
    body = (FIXTURES / "junit/pytest.xml").read_bytes()
    assert post(client, token, body, suite="maestro-ci").json["accepted"] == 4
    again = post(client, token, body, suite="maestro-ci").json
    assert again == {"accepted": 0, "duplicates": 4, "runs": [RUN]}
    assert [c["suite"] for c in client.get("/api/v1/sites/local-linux").json["latest"]] == ["maestro-ci"]
    # not a suite of the harness registry: the summary folds it into the row's "other" cell
    summary = client.get("/api/v1/summary").json
    assert summary["suites"] == [] and summary["rows"][0]["other"]["suites"] == 1


def test_changed_junit_for_same_run_conflicts(client, token):
    body = (FIXTURES / "junit/pytest.xml").read_bytes()
    post(client, token, body)
    changed = body.replace(b'time="8.25"', b'time="9.0"')
    assert post(client, token, changed).status_code == 409


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_xml_attacks_are_refused(client, token, name):
    response = post(client, token, (FIXTURES / "junit" / name).read_bytes())
    assert response.status_code == 400
    assert response.json["error"]["code"] == "unsafe_xml"


@pytest.mark.parametrize("body, code", [
    (b"", 400), (b"<testsuite", 400), (b"<html><body/></html>", 422),
    (b"<testsuite name='x'></testsuite>", 422), (b"\xff\xfe<x/>", 400),
])
def test_malformed_junit(client, token, body, code):
    assert post(client, token, body).status_code == code


def test_junit_needs_valid_run_id_and_token(client, token, other_token):
    body = (FIXTURES / "junit/pytest.xml").read_bytes()
    assert client.post("/api/v1/junit?run_id=" + RUN, data=body).status_code == 401
    assert client.post("/api/v1/junit", data=body, headers=auth(token)).status_code == 422
    assert post(client, token, body, run_id="bad run id!").status_code == 422
    assert post(client, token, body, finished="maybe").status_code == 400
    # the same run id at another site is another run
    assert post(client, other_token, body).status_code == 200
    assert client.get("/api/v1/sites/local-linux/runs").json["total"] == 0
