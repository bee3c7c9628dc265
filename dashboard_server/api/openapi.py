"""``GET /api/v1/openapi.json``: the document ``dashboard_server.openapi`` builds, cached per process."""

from __future__ import annotations

from typing import Any

from ..openapi import build_document
from .blueprint import api_bp

_CACHE: dict[str, Any] = {}


@api_bp.get("/api/v1/openapi.json")
def openapi() -> Any:
    if "doc" not in _CACHE:
        _CACHE["doc"] = build_document()
    return _CACHE["doc"]
