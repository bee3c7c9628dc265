"""POST /api/v1/records: our record format, batches, idempotency, auth boundaries."""

from __future__ import annotations

import json

from dashboard_server import tokens
from exaworks_sdk.records import RunStart, TestResult, new_id
from tests.support.dashboard import auth, issue_token, make_run, now, upload, write


def test_upload_run_and_read_it_back(client, token):
    records = make_run(tests={"test_a": "passed", "test_b": "failed"})
    response = upload(client, token, records)
    assert response.status_code == 200, response.json
    assert response.json == {"accepted": 4, "duplicates": 0, "runs": [records[0]["run_id"]]}

    runs = client.get("/api/v1/sites/local-linux/runs").json
    assert runs["total"] == 1
    run = runs["runs"][0]
    assert run["status"] == "failed"
    assert run["counts"] == {"passed": 1, "failed": 1, "skipped": 0, "error": 0, "known": 0, "fixed": 0}
    detail = client.get(f"/api/v1/runs/{run['id']}").json
    assert [t["test_id"] for t in detail["tests"]] == ["test_a", "test_b"]
    assert detail["components"]["psij-python"] == "0.9.11"


def test_json_lines_body(client, token):
    records = make_run()
    body = "\n".join(json.dumps(r) for r in records) + "\n"
    response = client.post("/api/v1/records", data=body, content_type="application/x-ndjson",
                           headers=auth(token))
    assert response.status_code == 200, response.json
    assert response.json["accepted"] == len(records)


def test_reupload_is_idempotent(client, token):
    records = make_run(tests={"test_a": "passed", "test_b": "failed"})
    assert upload(client, token, records).status_code == 200
    again = upload(client, token, records)
    assert again.status_code == 200
    assert again.json == {"accepted": 0, "duplicates": 4, "runs": [records[0]["run_id"]]}
    # a partial resend plus one new record
    extra = TestResult(id=new_id(), run_id=records[0]["run_id"], suite="psij", test_id="test_c",
                       status="passed").to_dict()
    partial = upload(client, token, records[1:2] + [extra])
    assert partial.json["accepted"] == 1 and partial.json["duplicates"] == 1
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]
    assert run["counts"]["passed"] == 2 and run["counts"]["failed"] == 1


def test_same_id_different_content_conflicts(client, token):
    records = make_run()
    assert upload(client, token, records).status_code == 200
    changed = dict(records[1], status="failed")
    response = upload(client, token, [changed])
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"


def test_duplicate_id_inside_one_batch_with_other_content_conflicts(client, token):
    records = make_run()
    response = upload(client, token, records + [dict(records[1], test_id="renamed")])
    assert response.status_code == 409


def test_batch_is_all_or_nothing(client, token):
    good = make_run()
    orphan = TestResult(id=new_id(), run_id="never-started-run", suite="s", test_id="t",
                        status="passed").to_dict()
    response = upload(client, token, good + [orphan])
    assert response.status_code == 422
    assert "never-started-run" in response.json["error"]["message"]
    assert client.get("/api/v1/sites/local-linux/runs").json["total"] == 0


def test_several_runs_in_one_batch(client, token):
    a, b = make_run(variant="pip"), make_run(variant="spack")
    response = upload(client, token, a + b)
    assert response.json["runs"] == [a[0]["run_id"], b[0]["run_id"]]
    assert client.get("/api/v1/sites/local-linux").json["site"]["variants"] == ["pip", "spack"]


def test_records_can_arrive_in_later_batches(client, token):
    records = make_run()
    assert upload(client, token, records[:1]).status_code == 200
    assert upload(client, token, records[1:]).status_code == 200
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]
    assert run["status"] == "passed" and run["counts"]["passed"] == 2


def test_unfinished_run_is_not_passed(client, token):
    upload(client, token, make_run(finished=False))
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]
    assert run["status"] == "unfinished"
    assert run["finished_at"] is None


def test_rundown_of_missing_token(client, token):
    response = client.post("/api/v1/records", json={"records": make_run()})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_site_is_forbidden(client, token, other_token):
    response = upload(client, other_token, make_run(site="local-linux"))
    assert response.status_code == 403
    assert client.get("/api/v1/sites/local-linux/runs").json["total"] == 0


def test_cannot_append_to_another_sites_run(client, token, other_token):
    records = make_run()
    upload(client, token, records)
    sneaky = TestResult(id=new_id(), run_id=records[0]["run_id"], suite="psij", test_id="x",
                        status="failed").to_dict()
    assert upload(client, other_token, [sneaky]).status_code == 422


def test_revoked_and_expired_tokens(app, client, token):
    key_id = token.split(":")[0]
    write(app, lambda s: tokens.revoke(s, key_id))
    response = upload(client, token, make_run())
    assert response.status_code == 401
    assert "revoked" in response.json["error"]["message"]

    from datetime import timedelta

    expired = issue_token(app, "local-linux", expires_in=timedelta(seconds=-1))
    response = upload(client, expired, make_run())
    assert response.status_code == 401
    assert "expired" in response.json["error"]["message"]


def test_wrong_secret_and_garbage_tokens(client, token):
    key_id = token.split(":")[0]
    for bad in (f"{key_id}:wrong", "nonsense", ":", "a" * 5000, "Basic abc"):
        response = client.post("/api/v1/records", json={"records": make_run()},
                               headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad


def test_run_start_conflict(client, token):
    records = make_run()
    upload(client, token, records)
    second = RunStart(id=new_id(), run_id=records[0]["run_id"], site="local-linux",
                      started_at=now()).to_dict()
    assert upload(client, token, [second]).status_code == 409
