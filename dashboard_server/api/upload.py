"""Write endpoints. Each request is one transaction: all of a batch is stored, or none of it.

Order of work, cheapest refusal first: the credential (``auth``, before this code runs for the
Bearer endpoints), then the content type and query string, then the body, read whole or
refused with 413, then parsing and validation, and only then the write transaction.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import db
from ..auth import check_credential, upload_site
from ..exceptions import AuthError, BadInput
from ..ingest.junit import parse_junit, parse_params, store_junit
from ..ingest.legacy import store_legacy
from ..ingest.records import parse_batch, split_body, store_batch
from ..schemas import UploadResponse
from ..validation import decode_utf8, parse_json
from .blueprint import api_bp

JSON_LINES = {"application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines"}
CHUNK = 1 << 16


def read_body() -> bytes:
    """The whole request body, or 413. With a Content-Length werkzeug refuses an oversized body
    before reading it; a chunked body (no length) is read up to one byte past the limit, so an
    over-long one is refused instead of silently cut at the limit and stored in part."""
    if request.content_length is not None:
        return request.get_data(cache=False)
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    stream = request.environ.get("wsgi.input")
    if stream is None or "wsgi.input_terminated" not in request.environ:
        return b""  # neither a length nor a server that ends the stream: there is no body
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(min(CHUNK, limit + 1 - size))
        if not part:
            return b"".join(parts)
        parts.append(part)
        size += len(part)
    raise RequestEntityTooLarge()


@api_bp.post("/api/v1/records")
def upload_records() -> Any:
    content_type = request.mimetype
    if content_type not in JSON_LINES | {"application/json"}:
        raise BadInput(
            "send application/json ({\"records\": [...]}) or application/x-ndjson (one record per line)",
            status=415, code="unsupported_media_type",
        )
    records = parse_batch(split_body(decode_utf8(read_body()), content_type))
    result = db.write(lambda session: store_batch(session, upload_site(session), records))
    return UploadResponse(**result.__dict__).model_dump(mode="json")


@api_bp.post("/api/v1/junit")
def upload_junit() -> Any:
    """JUnit XML body; ``run_id`` (required), ``suite``, ``variant``, ``branch``, ``sdk_version``,
    ``started_at`` and ``finished`` (default true) come from the query string."""
    params = parse_params(request.args)
    body = read_body()
    if not body.strip():
        raise BadInput("empty body: send a JUnit XML document", code="empty_body")
    cases = parse_junit(body, params.get("suite"))
    result = db.write(lambda session: store_junit(session, upload_site(session), cases, params))
    return UploadResponse(**result.__dict__).model_dump(mode="json")


@api_bp.post("/result")
def legacy_result() -> Any:
    """The old testing-service upload: ``{"id": SITE_ID, "key": KEY, "data": {...}}``. The key
    is in the body by design, so it is checked as soon as the JSON is parsed."""
    payload = parse_json(decode_utf8(read_body()))
    if not isinstance(payload, dict):
        raise BadInput("expected a JSON object {\"id\", \"key\", \"data\"}", code="invalid_body")
    key, site_id = payload.get("key"), payload.get("id")
    if key in (None, ""):
        raise AuthError(401, "missing key: send {\"id\": SITE, \"key\": KEY, \"data\": {...}}")
    if not isinstance(key, str):
        raise BadInput("key must be a string", code="invalid_field")
    try:
        site_name = check_credential(key, allow_legacy=True).site.name
    except AuthError as exc:  # the old service answered 403 to a wrong key; runners expect it
        raise AuthError(403, f"key not accepted: {exc.message}") from None
    if site_id in (None, "") or isinstance(site_id, bool) or not isinstance(site_id, (str, int)):
        raise BadInput("missing id: it must be the site name", code="missing_field")
    if str(site_id) != site_name:
        raise AuthError(403, f"this key belongs to site {site_name!r}, not {str(site_id)!r}")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise BadInput("data must be a JSON object", code="invalid_field")
    result = db.write(lambda session: store_legacy(session, upload_site(session), data))
    return UploadResponse(**result.__dict__).model_dump(mode="json")
