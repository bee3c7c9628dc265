"""Query-string parameters shared by the pages and the JSON API."""

from __future__ import annotations

from flask import current_app, request

from .exceptions import BadInput


def page_arg(name: str = "page", default: int = 1, maximum: int = 10_000_000) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadInput(f"query parameter {name} must be an integer from 1 to {maximum}", code="invalid_field")
    return int(raw)


def per_page() -> int:
    return page_arg("per_page", current_app.config["RUNS_PER_PAGE"], 500)
