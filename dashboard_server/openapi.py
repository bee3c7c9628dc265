"""OpenAPI 3.1 document, generated from the pydantic models (``schemas`` and ``records``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from exaworks_sdk.records import RUN_ID_PATTERN
from exaworks_sdk.release.attestation import VERSION_PATTERN

from . import schemas as s
from .endpoints import WRITE_ENDPOINTS
from .limits import JUNIT_PARAMS

REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "malformed input (bad JSON, invalid UTF-8, NUL characters, too deep)",
    "401": "missing, invalid, revoked or expired credentials",
    "403": "credentials valid but not for this site",
    "404": "not found",
    "409": "record id already stored with different content",
    "413": "body over the size limit",
    "415": "unsupported content type",
    "422": "well-formed but invalid (schema errors, unknown run, a timestamp too far ahead, too many suites)",
    "429": "too many failed authentications from this address or with this credential; retry after Retry-After",
    "503": "database unavailable; retry later",
}
READ_ERRORS = ("400", "401", "404", "429", "503")
WRITE_ERRORS = ("400", "401", "403", "409", "413", "415", "422", "429", "503")


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _responses(ok: dict[str, Any], errors: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": {"schema": ok}}}}
    for code in errors:
        out[code] = {"description": _ERRORS[code],
                     "content": {"application/json": {"schema": _ref(s.ErrorResponse)}}}
    return out


NO_NUL = "^[^\\u0000]*$"  # PostgreSQL cannot hold NUL, so every string refuses it (400)


def _param(name: str, where: str = "path", schema: dict[str, Any] | None = None,
           required: bool | None = None) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path" if required is None else required,
            "schema": schema or {"type": "string", "minLength": 1, "pattern": NO_NUL}}


_PAGE = [_param("page", "query", {"type": "integer", "minimum": 1, "maximum": 10_000_000}),
         _param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": 500})]
_SEGMENT = {"type": "string", "minLength": 1, "pattern": "^[^/\\u0000]+$"}


def _get(summary: str, ok: dict[str, Any], params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": params or [],
                    "responses": _responses(ok, READ_ERRORS)}}


def _text(summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    responses = _responses({}, READ_ERRORS)
    responses["200"] = {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}
    return {"get": {"summary": summary, "parameters": params, "responses": responses}}


_COMPAT = [_param("days", "query", {"type": "integer", "minimum": 1, "maximum": 3650}, False),
           _param("suite", "query", required=False)]


def _post(summary: str, content: dict[str, Any], params: list[dict[str, Any]] | None = None,
          security: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"post": {"summary": summary, "parameters": params or [],
                     "requestBody": {"required": True, "content": content},
                     "security": [{"bearer": []}] if security is None else security,
                     "responses": _responses(_ref(s.UploadResponse), WRITE_ERRORS)}}


def _write_operations() -> dict[str, dict[str, Any]]:
    """How each upload endpoint of ``endpoints.WRITE_ENDPOINTS`` is documented, by endpoint name."""
    junit_params = [_param(name, "query", {"type": "string", "maxLength": limit, "pattern": NO_NUL,
                                           **({"minLength": 8, "pattern": RUN_ID_PATTERN} if name == "run_id" else {})},
                           name == "run_id") for name, limit in JUNIT_PARAMS.items()]
    junit_params.append(_param("finished", "query", {"type": "boolean"}, False))
    docs: dict[str, tuple[str, dict[str, Any], list[dict[str, Any]]]] = {
        "api.upload_records": ("Upload a batch of records (RunStart, TestResult, RunFinish)", {
            "application/json": {"schema": _ref(s.RecordBatch)},
            "application/x-ndjson": {"schema": {"type": "string", "description": "one record per line"}},
        }, []),
        "api.upload_junit": ("Upload a JUnit XML report as (part of) a run",
                             {"application/xml": {"schema": {"type": "string"}}}, junit_params),
        "api.legacy_result": ("Legacy ExaWorks testing-service upload (key in the body)",
                              {"application/json": {"schema": _ref(s.LegacyUpload)}}, []),
    }
    return {e.path: _post(*docs[e.endpoint], security=None if e.credential == "bearer" else [])
            for e in WRITE_ENDPOINTS}


def _paths() -> dict[str, Any]:
    site = _param("site", schema=_SEGMENT)
    return {
        **_write_operations(),
        "/api/v1/health": _get("Service and database health", _ref(s.Health)),
        "/api/v1/summary": _get("Latest status per site, variant and suite", _ref(s.SummaryOut)),
        "/api/v1/sites": _get("All sites", {"type": "array", "items": _ref(s.SiteOut)}),
        "/api/v1/sites/{site}": _get("One site and its latest results", _ref(s.SiteDetail), [site]),
        "/api/v1/sites/{site}/runs": _get("A site's runs, newest first, paginated",
                                          _ref(s.RunPage), [site, *_PAGE]),
        "/api/v1/sites/{site}/runs/{run_id}": _get(
            "Runs at a site with this client run id", {"type": "array", "items": _ref(s.RunDetail)},
            [site, _param("run_id")]),
        "/api/v1/runs/{run}": _get("One run with its tests", _ref(s.RunDetail),
                                   [_param("run", schema={"type": "integer", "minimum": 1,
                                                          "maximum": 2**31 - 1})]),
        "/api/v1/tests/{suite}/{test_id}": _get(
            "One test across sites and time, with flaky flags", _ref(s.TestHistory),
            [_param("suite", schema=_SEGMENT), _param("test_id"), *_PAGE]),
        "/api/v1/tests": _get("Same, with suite and test id in the query string", _ref(s.TestHistory),
                              [_param("suite", "query", required=True),
                               _param("test_id", "query", required=True), *_PAGE]),
        "/api/v1/compat": _get("Compatibility matrix: each suite's version sets, where they ran, the newest "
                               "verdict per site; the manifest's pinned sets marked", _ref(s.CompatOut), _COMPAT),
        "/api/v1/compat/known-good.txt": _text(
            "The newest known-good version set of each suite, as pip constraints or a Spack packages.yaml",
            [_param("format", "query", {"type": "string", "enum": ["pip", "spack"]}, False), *_COMPAT]),
        "/api/v1/failures": _get("What is failing now (the failed tests of each failing cell's newest run), grouped "
                                 "by fingerprint across sites, each group attributed to a component or the "
                                 "facility, with the evidence; largest groups first, a page at a time", _ref(s.FailuresOut),
                                 [_param("days", "query", {"type": "integer", "minimum": 1, "maximum": 365}, False),
                                  _param("page", "query", {"type": "integer", "minimum": 1, "maximum": 10_000_000}),
                                  _param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": 100})]),
        "/api/v1/digest": _get("The newest failure digest: new, persistent and fixed failures since the one "
                               "before", _ref(s.DigestOut)),
        "/api/v1/releases": _get("Recorded release attestations, newest first", _ref(s.ReleaseList)),
        "/api/v1/releases/{version}": _get(
            "One release's attestation: every required cell's state, the runs it cites and their lockfiles",
            _ref(s.ReleaseOut), [_param("version", schema={"type": "string", "pattern": VERSION_PATTERN})]),
        "/api/v1/openapi.json": _get("This document", {"type": "object"}),
    }


def build_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        s.RecordBatch, s.LegacyUpload, s.UploadResponse, s.ErrorResponse, s.Health, s.SummaryOut,
        s.SiteOut, s.SiteDetail, s.RunPage, s.RunDetail, s.TestHistory, s.CompatOut, s.FailuresOut, s.DigestOut,
        s.ReleaseList, s.ReleaseOut,
    ]
    _, definitions = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "ExaWorks SDK dashboard", "version": "1"},
        "paths": _paths(),
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "site token '<key_id>:<secret>'"}},
        },
    }
