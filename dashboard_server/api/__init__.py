"""The JSON API: uploads (ours, legacy ``/result``, JUnit), reads, health and OpenAPI."""

from __future__ import annotations

from . import openapi, read, upload  # noqa: F401  (their routes register on import)
from .blueprint import api_bp

__all__ = ["api_bp"]
