"""Write endpoints. Each request is one transaction: all of a batch is stored, or none of it."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session

from .. import db
from ..auth import bearer_site
from ..exceptions import AuthError, BadInput
from ..ingest.junit import parse_junit, store_junit
from ..ingest.legacy import store_legacy
from ..ingest.records import parse_batch, split_body, store_batch
from ..models import Site, utcnow
from ..schemas import UploadResponse
from ..tokens import verify
from ..validation import decode_utf8, parse_json
from .blueprint import api_bp

JSON_LINES = {"application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines"}


def _body() -> bytes:
    return request.get_data(cache=False)


@api_bp.post("/api/v1/records")
def upload_records() -> Any:
    content_type = request.mimetype
    if content_type not in JSON_LINES | {"application/json"}:
        raise BadInput(
            "send application/json ({\"records\": [...]}) or application/x-ndjson (one record per line)",
            status=415, code="unsupported_media_type",
        )
    records = parse_batch(split_body(decode_utf8(_body()), content_type))
    result = db.write(lambda session: store_batch(session, bearer_site(session), records))
    return UploadResponse(**result.__dict__).model_dump(mode="json")


def _flag(name: str, default: bool) -> bool:
    value = request.args.get(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise BadInput(f"query parameter {name} must be true or false", code="invalid_field")


@api_bp.post("/api/v1/junit")
def upload_junit() -> Any:
    """JUnit XML body; ``run_id`` (required), ``suite``, ``variant``, ``branch``, ``sdk_version``,
    ``started_at`` and ``finished`` (default true) come from the query string."""
    params: dict[str, Any] = {}
    for name in ("run_id", "suite", "variant", "branch", "sdk_version", "started_at"):
        value = request.args.get(name)
        if value is not None:
            if "\x00" in value or len(value) > 256:
                raise BadInput(f"query parameter {name} is not acceptable", code="invalid_field")
            params[name] = value
    if "run_id" not in params:
        raise BadInput("query parameter run_id is required", status=422, code="missing_field")
    params["finished"] = _flag("finished", True)
    body = _body()
    if not body.strip():
        raise BadInput("empty body: send a JUnit XML document", code="empty_body")
    cases = parse_junit(body, params.get("suite"))
    result = db.write(lambda session: store_junit(session, bearer_site(session), cases, params))
    return UploadResponse(**result.__dict__).model_dump(mode="json")


def _legacy_site(session: Session, payload: dict[str, Any]) -> Site:
    key, site_id = payload["key"], payload["id"]
    try:
        token = verify(session, key, allow_legacy=True)
    except AuthError as exc:
        raise AuthError(403, f"key not accepted: {exc.message}") from None
    site = token.site
    if str(site_id) != site.name:
        raise AuthError(403, f"this key belongs to site {site.name!r}, not {str(site_id)!r}")
    token.last_used_at = utcnow()
    return site


@api_bp.post("/result")
def legacy_result() -> Any:
    """The old testing-service upload: ``{"id": SITE_ID, "key": KEY, "data": {...}}``."""
    payload = parse_json(decode_utf8(_body()))
    if not isinstance(payload, dict):
        raise BadInput("expected a JSON object {\"id\", \"key\", \"data\"}", code="invalid_body")
    missing = [name for name in ("id", "key") if payload.get(name) in (None, "")]
    if missing:
        raise BadInput(f"missing {' and '.join(missing)}", code="missing_field")
    if not isinstance(payload["key"], str) or not isinstance(payload["id"], (str, int)):
        raise BadInput("id and key must be strings", code="invalid_field")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise BadInput("data must be a JSON object", code="invalid_field")

    def work(session: Session) -> Any:
        site = _legacy_site(session, payload)
        return store_legacy(session, site, data)

    result = db.write(work)
    return UploadResponse(**result.__dict__).model_dump(mode="json")

