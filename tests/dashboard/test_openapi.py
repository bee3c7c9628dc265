"""The OpenAPI document: complete, resolvable, and true to what the endpoints return."""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from dashboard_server.openapi import build_document
from tests.support.dashboard import make_run, upload, write


def _validator(doc, schema):
    resource = Resource.from_contents({"components": doc["components"]}, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:openapi", resource)
    rewritten = _rewrite(schema)
    return Draft202012Validator(rewritten, registry=registry)


def _rewrite(node):
    if isinstance(node, dict):
        return {k: ("urn:openapi" + v if k == "$ref" and v.startswith("#/") else _rewrite(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def test_every_api_route_is_documented(app):
    doc = build_document()
    documented = set(doc["paths"])
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/result":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            assert path in documented, f"{rule.rule} missing from the OpenAPI document"


def test_component_schemas_are_valid_json_schema():
    doc = build_document()
    assert doc["openapi"].startswith("3.1")
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    text = str(doc)
    for ref in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert ref in doc["components"]["schemas"], ref
    # write and read schemas share the record models
    assert {"RunStart", "TestResult", "RunFinish", "RunDetail"} <= set(doc["components"]["schemas"])


def test_responses_match_the_document(client, token):
    records = make_run(tests={"t": "failed", "u": "passed"}, finished=False)
    upload(client, token, records)
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]["id"]
    doc = client.get("/api/v1/openapi.json").json
    for path, template in [
        ("/api/v1/health", "/api/v1/health"), ("/api/v1/summary", "/api/v1/summary"),
        ("/api/v1/sites", "/api/v1/sites"), ("/api/v1/sites/local-linux", "/api/v1/sites/{site}"),
        ("/api/v1/sites/local-linux/runs", "/api/v1/sites/{site}/runs"),
        (f"/api/v1/runs/{run}", "/api/v1/runs/{run}"),
        (f"/api/v1/sites/local-linux/runs/{records[0]['run_id']}", "/api/v1/sites/{site}/runs/{run_id}"),
        ("/api/v1/tests/psij/t", "/api/v1/tests/{suite}/{test_id}"),
        ("/api/v1/sites/nowhere", "/api/v1/sites/{site}"),
    ]:
        response = client.get(path)
        spec = doc["paths"][template]["get"]["responses"][str(response.status_code)]
        schema = spec["content"]["application/json"]["schema"]
        errors = list(_validator(doc, schema).iter_errors(response.json))
        assert not errors, (path, errors[:3])


def test_release_responses_match_the_document(app, client, token):
    from dashboard_server import releases

    records = make_run(tests={"t": "passed"})
    upload(client, token, records)
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]
    cell = {"site": "local-linux", "facility": "local", "variant": "pip", "suite": "psij", "state": "green",
            "run": run["id"], "run_id": records[0]["run_id"], "versions": {"psij-python": "0.9.11"}}
    attestation = {"release": "exaworks-sdk 2026.11", "version": "2026.11", "manifest_digest": "sha256:" + "0" * 64,
                   "dashboard": "http://127.0.0.1", "days": 7, "checked_at": "2026-12-02T12:00:00+00:00",
                   "ready": True, "cells": [cell],
                   "runs": {records[0]["run_id"]: {"run": run["id"], "site": "local-linux", "variant": "pip",
                                                   "started_at": run["started_at"], "status": "passed",
                                                   "installed": {"pip": {"parsl": "2026.10.26"}}}}}
    write(app, lambda session: releases.record(session, attestation))
    doc = client.get("/api/v1/openapi.json").json
    for path, template, code in [("/api/v1/releases", "/api/v1/releases", 200),
                                 ("/api/v1/releases/2026.11", "/api/v1/releases/{version}", 200),
                                 ("/api/v1/releases/2099.1", "/api/v1/releases/{version}", 404)]:
        response = client.get(path)
        assert response.status_code == code, response.json
        schema = doc["paths"][template]["get"]["responses"][str(code)]["content"]["application/json"]["schema"]
        assert not list(_validator(doc, schema).iter_errors(response.json)), path


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors_or_schema_violations(app, token, tmp_path, capsys):
    """Bounded (``SDK_SCHEMATHESIS_EXAMPLES`` per operation, 15 by default): every generated request
    gets no 5xx, a documented status code and content type, and a body matching its schema."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis import checks

    upload(app.test_client(), token, make_run(tests={"t": "failed"}))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    wanted = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
              checks.response_schema_conformance]
    failures, statuses = [], Counter()

    def checker(op):
        @settings(max_examples=int(os.environ.get("SDK_SCHEMATHESIS_EXAMPLES", "15")), deadline=None,
                  database=None, suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def check(case):
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            statuses[response.status_code // 100 * 100] += 1
            try:
                case.validate_response(response, checks=wanted)
            except Exception as exc:  # a Failure (AssertionError) or a FailureGroup of several
                failures.append((op.method, op.path, response.status_code, str(exc)[:400]))

        return check

    for operation in schema.get_all_operations():
        checker(operation.ok())()
    with capsys.disabled():
        print(f"\nschemathesis: {sum(statuses.values())} requests, "
              f"by status class {dict(sorted(statuses.items()))}")
    assert failures == []
    assert statuses[500] == 0
