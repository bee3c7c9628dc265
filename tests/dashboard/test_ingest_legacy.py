"""POST /result: the legacy testing-service format, with every leniency case of the reference."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dashboard_server import tokens
from dashboard_server.ingest.legacy import split_branch
from dashboard_server.models import Site
from tests.support.dashboard import auth, load_fixture, make_run, write

PSIJ_RUN = ["psij_start", "psij_test_passed", "psij_test_failed", "psij_test_skipped", "psij_end"]


def payload(name: str, key: str, **data: Any) -> dict[str, Any]:
    body = load_fixture(f"legacy/{name}.json")
    body["key"] = key
    body["data"].update(data)
    return body


def post(client, body: Any):
    return client.post("/result", json=body)


def only_run(client, site: str = "llnl-dane") -> dict[str, Any]:
    runs = client.get(f"/api/v1/sites/{site}/runs").json["runs"]
    assert len(runs) == 1, runs
    return client.get(f"/api/v1/runs/{runs[0]['id']}").json


def test_psij_run(client, other_token):
    for name in PSIJ_RUN:
        response = post(client, payload(name, other_token))
        assert response.status_code == 200, (name, response.json)
    run = only_run(client)
    assert run["run_id"] == "2024013110-" + "5f0c1d2e3a4b5c6d7e8f9a0b1c2d3e4f" * 2
    assert run["source"] == "legacy" and run["variant"] == "default" and run["branch"] == "main"
    # start and end records are not tests
    assert run["counts"] == {"passed": 1, "failed": 1, "skipped": 1, "error": 0, "known": 0, "fixed": 0}
    assert run["status"] == "failed"
    assert run["started_at"] == "2024-01-31T10:00:00.123456Z"
    assert run["finished_at"] == "2024-01-31T10:05:00.000002Z"
    assert run["assumed_utc"] is False and run["generated_id"] is False
    assert run["environment"]["has_slurm"] is True
    assert run["commit"] == "914ffa3a01e5c1b2d3e4f5a6b7c8d9e0f1a2b3c4"  # psij sends it in quotes
    tests = {t["test_id"]: t for t in run["tests"]}
    assert set(tests) == {"test_simple_job[slurm:srun]", "test_cancel[slurm:srun]",
                          "TestLaunchers::test_mpirun[local:mpi]"}
    failed = tests["test_cancel[slurm:srun]"]
    assert failed["suite"] == "test_executors"
    # psij's exception is null; the failure is the report's "E" line, colours removed
    assert failed["message"] == "AssertionError: job state FAILED != CANCELED"
    assert "Invalid account" in failed["output"]
    assert failed["duration"] == pytest.approx(10.0)


def test_resent_record_is_a_duplicate(client, other_token):
    body = payload("psij_test_passed", other_token)
    assert post(client, body).json["accepted"] == 1
    assert post(client, body).json == {"accepted": 0, "duplicates": 1, "runs": [body["data"]["run_id"]]}
    assert only_run(client)["counts"]["passed"] == 1


def test_sdk_wrapper_variants_do_not_collide(client, other_token):
    for variant in ("pip", "spack"):
        for name in ("sdk_start", "sdk_test", "sdk_end"):
            body = payload(name, other_token, branch=f"master[{variant}]")
            assert post(client, body).status_code == 200
    runs = client.get("/api/v1/sites/llnl-dane/runs").json["runs"]
    assert sorted(r["variant"] for r in runs) == ["pip", "spack"]
    assert {r["run_id"] for r in runs} == {"1187345"}
    assert {r["branch"] for r in runs} == {"master"}
    assert all(r["status"] == "passed" and r["counts"]["passed"] == 1 for r in runs)
    assert client.get("/api/v1/sites/llnl-dane/runs/1187345").status_code == 200


def test_utc_offset_timestamps(client, other_token):
    post(client, payload("sdk_start", other_token, test_start_time="2025-01-01 03:04:05.123+00:00"))
    post(client, payload("sdk_test", other_token, test_start_time="2025-01-01 05:05:00+02:00"))
    run = only_run(client)
    assert run["tests"][0]["started_at"] == "2025-01-01T03:05:00Z"
    assert run["assumed_utc"] is True  # the start's extras.start_time has no offset, and the site no zone


def test_unknown_fields_are_ignored(client, other_token):
    body = payload("psij_test_passed", other_token, stdout="top-level stdout", whatever={"x": [1]})
    body["unexpected"] = True
    assert post(client, body).status_code == 200


def test_results_without_status(client, other_token):
    results = {"setup": {"passed": True}, "call": {"passed": False, "exception": "boom"}}
    post(client, payload("psij_test_passed", other_token, results=results, test_name="no_status_fail"))
    post(client, payload("psij_test_passed", other_token, test_name="bare",
                         results={"call": {"report": ""}}))
    post(client, payload("sdk_test", other_token, results={"call": {"passed": False, "status": ""}}))
    statuses = {t["test_id"]: t["status"] for r in client.get("/api/v1/sites/llnl-dane/runs").json["runs"]
                for t in client.get(f"/api/v1/runs/{r['id']}").json["tests"]}
    assert statuses == {"no_status_fail": "failed", "bare": "passed", "parsl": "failed"}


def test_null_branch_and_run_id(client, other_token):
    assert post(client, payload("psij_test_passed", other_token, branch=None, run_id=None)).status_code == 200
    assert post(client, payload("psij_end", other_token, branch=None, run_id=None)).status_code == 200
    run = only_run(client)
    assert run["generated_id"] is True and run["run_id"].startswith("auto-")
    assert run["branch"] is None and run["finished_at"] is not None and run["counts"]["passed"] == 1


def test_end_record_mislabelled_module_end(client, other_token):
    post(client, payload("psij_test_passed", other_token))
    end = payload("psij_end", other_token, module="_end", function="end", test_name="end")
    assert post(client, end).status_code == 200
    run = only_run(client)
    assert run["finished_at"] is not None
    assert run["counts"]["passed"] == 1  # the end record is not a test


def test_missing_maintainer_email_and_null_extras(client, other_token):
    body = payload("psij_start", other_token)
    del body["data"]["extras"]["config"]["maintainer_email"]
    assert post(client, body).status_code == 200
    assert post(client, payload("psij_test_passed", other_token, extras=None)).status_code == 200


@pytest.mark.parametrize("when", ["2024-01-31 10:00:00.123456", "2024-01-31T10:00:00Z", 1706695200.5, None])
def test_timestamp_formats(client, other_token, when):
    response = post(client, payload("psij_test_passed", other_token, test_start_time=when))
    assert response.status_code == 200, response.json


@pytest.mark.parametrize("when", ["yesterday", "2024-13-45 99:00:00", "0001-01-01 00:00:00", True, [1]])
def test_garbage_timestamps(client, other_token, when):
    response = post(client, payload("psij_test_passed", other_token, test_start_time=when))
    assert 400 <= response.status_code < 500
    assert response.json["error"]["code"] == "invalid_timestamp"


def test_missing_id_or_key(client, other_token):
    body = payload("psij_test_passed", other_token)
    for missing in ("id", "key"):
        broken = copy.deepcopy(body)
        del broken[missing]
        response = post(client, broken)
        # no key is no credential: 401, like a missing Authorization header
        assert response.status_code == (401 if missing == "key" else 400), response.json
        assert missing in response.json["error"]["message"]


@pytest.mark.parametrize("data", [[1, 2], "text", None])
def test_data_must_be_an_object(client, other_token, data):
    body = payload("psij_test_passed", other_token)
    body["data"] = data
    assert post(client, body).status_code == 400


def test_wrong_types(client, other_token):
    assert post(client, payload("psij_test_passed", other_token, run_id={"a": 1})).status_code == 400
    body = payload("psij_test_passed", other_token)
    body["key"] = 12345
    assert post(client, body).status_code == 400


def test_bad_key_is_forbidden(client, other_token):
    key_id = other_token.split(":")[0]
    for key in (f"{key_id}:wrong-secret", "an-unregistered-facility-key-0001"):
        assert post(client, payload("psij_test_passed", key)).status_code == 403


def test_key_of_site_a_cannot_write_as_site_b(client, token, other_token):
    body = payload("psij_test_passed", token)  # local-linux's token, id says llnl-dane
    response = post(client, body)
    assert response.status_code == 403
    assert client.get("/api/v1/sites/llnl-dane/runs").json["total"] == 0


def test_registered_legacy_key(app, client, other_token):
    facility_key = "6c1f0a2e-4b7d-4e8a-9c3b-1d2e3f4a5b6c"

    def add(session):
        site = session.query(Site).filter_by(name="llnl-dane").one()
        return tokens.add_legacy_key(session, site, facility_key)

    key_id = write(app, add)
    assert post(client, payload("psij_test_passed", facility_key)).status_code == 200
    # a legacy key is for /result only, never for the new API
    response = client.post("/api/v1/records", json={"records": make_run("llnl-dane")},
                           headers=auth(facility_key))
    assert response.status_code == 401
    write(app, lambda s: tokens.revoke(s, key_id))
    assert post(client, payload("psij_test_failed", facility_key)).status_code == 403


def test_split_branch():
    assert split_branch("main[pip]") == ("main", "pip")
    assert split_branch("feature/x [spack]") == ("feature/x", "spack")
    assert split_branch("main") == ("main", None)
    assert split_branch(None) == (None, None)
    assert split_branch("[pip]") == (None, "pip")


def test_invalid_json_and_utf8(client):
    assert client.post("/result", data=b"{not json", content_type="application/json").status_code == 400
    assert client.post("/result", data=b'{"id": "\xff"}', content_type="application/json").status_code == 400
