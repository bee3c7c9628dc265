"""ExaWorks SDK results dashboard: upload API -> database -> pages.

    gunicorn 'dashboard_server:create_app()'

The factory lives in ``app.py`` and is imported on first call, so the parts that need neither
Flask nor a database (``schemas``, ``openapi``, ``describe``) import with the base install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from .app import create_app as factory

    return factory(config)
