"""Query-string parameters shared by the pages and the JSON API."""

from __future__ import annotations

from flask import current_app, request
from werkzeug.routing import IntegerConverter

from .exceptions import BadInput


class AsciiInt(IntegerConverter):
    """``<int:…>`` in URLs: ASCII digits only. Werkzeug's own matches ``\\d``, which takes any
    Unicode digit ("١" reached run 1), and no number of ours has more than 10 digits."""

    regex = r"[0-9]{1,10}"


def page_arg(name: str = "page", default: int = 1, maximum: int = 10_000_000) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also accepts "²" and other digits int() cannot read
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(maximum)) or not 1 <= int(raw) <= maximum:
        raise BadInput(f"query parameter {name} must be an integer from 1 to {maximum}", code="invalid_field")
    return int(raw)


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill, ``per_page`` a page (one when there are none)."""
    return max(1, -(-total // per_page))


def per_page() -> int:
    return page_arg("per_page", current_app.config["RUNS_PER_PAGE"], 500)
