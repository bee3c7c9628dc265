"""The JSON API: uploads (ours, legacy ``/result``, JUnit), reads, health and OpenAPI."""

from __future__ import annotations

from flask import Blueprint

api_bp = Blueprint("api", __name__)

from . import openapi, read, upload  # noqa: E402,F401  (routes register on import)
