"""Fixtures for the dashboard tests.

``app`` runs on each database of ``db_url`` (tests/conftest.py): SQLite, and PostgreSQL when
``SDK_TEST_POSTGRES_URL`` is set. The schema is always built by the Alembic migration.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from dashboard_server import create_app


@pytest.fixture
def app_config(db_url: str) -> dict[str, Any]:
    return {"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test"}


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(app_config)
    yield application
    application.extensions["sdk_dashboard"]["engine"].dispose()
