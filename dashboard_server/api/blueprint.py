"""The API blueprint object; the route modules (``read``, ``upload``, ``openapi``) register on it."""

from __future__ import annotations

from flask import Blueprint

api_bp = Blueprint("api", __name__)
