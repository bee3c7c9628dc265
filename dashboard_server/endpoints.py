"""The upload endpoints: the one list that authentication, error responses and OpenAPI all read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class WriteEndpoint:
    """An upload endpoint: it takes a site credential (``bearer`` header, or ``body`` key of the
    legacy format) instead of the read login. Auth, error responses and OpenAPI all read this list."""

    endpoint: str
    path: str
    credential: Literal["bearer", "body"]


WRITE_ENDPOINTS = (
    WriteEndpoint("api.upload_records", "/api/v1/records", "bearer"),
    WriteEndpoint("api.upload_junit", "/api/v1/junit", "bearer"),
    WriteEndpoint("api.legacy_result", "/result", "body"),
)
WRITE_ENDPOINT_NAMES = frozenset(e.endpoint for e in WRITE_ENDPOINTS)
