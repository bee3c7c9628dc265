"""The dashboard describes its endpoints for the docs (dashboard_server/describe.py)."""

from __future__ import annotations

from dashboard_server.describe import endpoints_markdown
from dashboard_server.endpoints import WRITE_ENDPOINTS
from dashboard_server.openapi import build_document


def test_endpoint_table_covers_the_openapi_document() -> None:
    text = endpoints_markdown()
    for path, operations in build_document()["paths"].items():
        for method in operations:
            assert f"| {method.upper()} | `{path}` |" in text
    for endpoint in WRITE_ENDPOINTS:
        auth = "Bearer site token" if endpoint.credential == "bearer" else "key in the body"
        assert f"| POST | `{endpoint.path}` |" in text and auth in text
    assert endpoints_markdown() == text  # deterministic
