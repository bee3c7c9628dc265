"""Values that could poison shared views are refused with a 4xx naming the field (issue #15:
F3 future timestamps, F6 non-finite numbers, F7 integers too long to parse, F8 limits that the
columns and the OpenAPI document disagree on, F9 non-ASCII digits in query parameters, F12
JSON Lines split on characters other than newline). Both databases."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest
from sqlalchemy import String

from dashboard_server.limits import JUNIT_PARAMS
from dashboard_server.models import LatestResult, Run, SuiteRun, TestResultRow
from dashboard_server.openapi import build_document
from exaworks_sdk.records import LIMITS, RunStart
from tests.support.attacks import legacy_body, ndjson, post_ndjson
from tests.support.dashboard import auth, make_run, now, upload

JUNIT = b'<testsuite name="psij"><testcase classname="c" name="t"><failure message="m"/></testcase></testsuite>'


def error(response, status):
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    return response.json["error"]


def strict_json(response):
    return json.loads(response.get_data(as_text=True),
                      parse_constant=lambda c: pytest.fail(f"{c} in a JSON response"))


@pytest.mark.parametrize("started", ["2999-06-01T00:00:00+00:00", "future-2-days"])
def test_a_run_from_the_future_is_refused_and_cannot_hide_real_results(client, token, other_token, started):
    when = (now() + timedelta(days=2)).isoformat() if started == "future-2-days" else started
    records = make_run(suites={"psij": {"t": "passed"}, "parsl": {"t": "passed"}})
    records[0]["started_at"] = when
    problem = error(upload(client, token, records), 422)["details"][0]
    assert problem["record"] == 0 and "started_at" in problem["msg"] and "future" in problem["msg"]
    assert client.get("/api/v1/sites/local-linux/runs").json["total"] == 0
    # a real failing run is what the summary shows; the other site is untouched
    assert upload(client, token, make_run(suites={"psij": {"t": "failed"}})).status_code == 200
    assert upload(client, other_token, make_run("llnl-dane", suites={"psij": {"t": "passed"}})).status_code == 200
    cells = {r["site"]["name"]: r["cells"] for r in client.get("/api/v1/summary").json["rows"]}
    assert cells["local-linux"]["psij"]["status"] == "failed" and cells["llnl-dane"]["psij"]["status"] == "passed"


def test_a_clock_a_few_hours_fast_is_fine_and_the_slack_is_configurable(app, client, token):
    records = make_run(started_at=now() + timedelta(hours=3))
    assert upload(client, token, records).status_code == 200
    app.config["FUTURE_SLACK_HOURS"] = 1
    records = make_run(started_at=now() + timedelta(hours=3))
    assert "started_at" in error(upload(client, token, records), 422)["details"][0]["msg"]


def test_future_timestamps_on_the_other_upload_paths(client, token, other_token):
    body = legacy_body("psij_test_passed", "llnl-dane", other_token, test_start_time="2999-01-01 00:00:00")
    assert "data.test_start_time" in error(client.post("/result", json=body), 422)["message"]
    response = client.post("/api/v1/junit?run_id=junit-future-1&started_at=2999-01-01T00:00:00Z",
                           data=JUNIT, headers=auth(token))
    assert "started_at" in error(response, 422)["message"]
    for site in ("local-linux", "llnl-dane"):
        assert client.get(f"/api/v1/sites/{site}/runs").json["total"] == 0


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1e300", "1e8"])
@pytest.mark.parametrize("form", ["json", "ndjson"])
def test_non_finite_and_absurd_durations_are_refused(client, token, number, form):
    records = make_run(suites={"psij": {"t": "failed"}})
    text = json.dumps({"records": records}) if form == "json" else ndjson(records).decode()
    text = text.replace('"duration": 1.5', f'"duration": {number}', 1)
    response = client.post("/api/v1/records", data=text.encode(), headers=auth(token),
                           content_type="application/json" if form == "json" else "application/x-ndjson")
    assert error(response, 422)["code"] in ("number_out_of_range", "invalid_records")
    assert client.get("/api/v1/sites/local-linux/runs").json["total"] == 0


def test_read_api_output_is_strict_json(client, token, other_token):
    upload(client, token, make_run(suites={"psij": {"t": "failed", "u": "passed"}}))
    upload(client, other_token, make_run("llnl-dane", suites={"psij": {"t": "passed"}}))
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]["id"]
    for path in ("/api/v1/summary", f"/api/v1/runs/{run}", "/api/v1/tests/psij/t", "/api/v1/sites/llnl-dane"):
        for test in strict_json(client.get(path)).get("tests", []):
            assert math.isfinite(test["duration"])


def test_an_integer_too_long_to_parse_is_refused_not_a_500(client, token, other_token):
    huge = "9" * 4400
    body = json.dumps({"records": make_run()}).replace('"exit_code": 0', f'"exit_code": {huge}').encode()
    assert error(client.post("/api/v1/records", data=body, content_type="application/json"), 401)
    assert error(client.post("/api/v1/records", data=body, content_type="application/json",
                             headers=auth(token)), 422)["code"] == "number_out_of_range"
    legacy = json.dumps(legacy_body("psij_test_passed", "llnl-dane", other_token)).replace(
        '"extras": null', f'"extras": {huge}')
    assert error(client.post("/result", data=legacy, content_type="application/json"), 422)
    # 20 digits is the bound: a long but ordinary integer passes the parser and meets the schema
    records = make_run()
    records[-1]["exit_code"] = 10**19
    assert error(upload(client, token, records), 422)["code"] == "invalid_records"


def column_length(model, name):
    column = model.__table__.c[name]
    assert isinstance(column.type, String)
    return column.type.length


def test_column_limits_and_openapi_limits_come_from_one_table():
    doc = build_document()
    params = {p["name"]: p["schema"] for p in doc["paths"]["/api/v1/junit"]["post"]["parameters"]}
    for name, limit in JUNIT_PARAMS.items():
        assert params[name]["maxLength"] == limit, name
        if name in ("variant", "branch", "sdk_version"):
            assert column_length(Run, name) == limit, name
    run_start = doc["components"]["schemas"]["RunStart"]["properties"]
    for name in ("variant", "sdk_version", "pipeline_id", "branch", "commit", "hostname"):
        schema = run_start[name]
        declared = schema.get("maxLength") or next(s["maxLength"] for s in schema["anyOf"] if "maxLength" in s)
        assert declared == LIMITS[name] == column_length(Run, name), name
        assert RunStart.model_fields[name] is not None
    for model in (SuiteRun, LatestResult):
        assert column_length(model, "variant") == LIMITS["variant"]
    assert column_length(TestResultRow, "suite") == JUNIT_PARAMS["suite"]


@pytest.mark.parametrize("name", ["variant", "sdk_version", "branch", "suite"])
def test_junit_parameters_over_their_column_are_refused_at_the_limit_stored(client, token, name):
    limit = JUNIT_PARAMS[name]
    over = client.post(f"/api/v1/junit?run_id=junit-limit-1&{name}={'v' * (limit + 1)}", data=JUNIT,
                       headers=auth(token))
    assert name in error(over, 422)["message"]
    at = client.post(f"/api/v1/junit?run_id=junit-limit-1&{name}={'v' * limit}", data=JUNIT, headers=auth(token))
    assert at.status_code == 200, at.json
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]
    detail = client.get(f"/api/v1/runs/{run['id']}").json
    stored = detail["tests"][0]["suite"] if name == "suite" else detail[name]
    assert stored == "v" * limit


@pytest.mark.parametrize("value", ["²", "١", "１", "0", "-1", "1.0", "99999999999999999999999"])
def test_query_parameters_take_ascii_digits_only(client, token, value):
    upload(client, token, make_run())
    for path, args in (("/api/v1/sites/local-linux/runs", {}), ("/sites/local-linux", {}),
                       ("/api/v1/tests/psij/test_a", {}), ("/tests/", {"suite": "psij", "test": "test_a"})):
        for name in ("page", "per_page"):
            response = client.get(path, query_string={**args, name: value})
            assert response.status_code == 400, (path, name, value, response.status_code)
    assert client.get(f"/api/v1/runs/{value}").status_code == 404


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])  # JSON escapes the control ones
def test_json_lines_split_on_newline_only(client, token, separator):
    records = make_run(suites={"psij": {"t": "failed"}}, output=f"before{separator}after")
    records[1]["message"] = f"one{separator}two"
    body = ndjson(records)
    assert separator.encode() in body  # unescaped inside a JSON string: valid JSON
    response = post_ndjson(client, token, body)
    assert response.status_code == 200, response.json
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]["id"]
    test = client.get(f"/api/v1/runs/{run}").json["tests"][0]
    assert test["output"] == f"before{separator}after" and test["message"] == f"one{separator}two"
    crlf = post_ndjson(client, token, ndjson(make_run()).replace(b"\n", b"\r\n"))
    assert crlf.status_code == 200, crlf.json
