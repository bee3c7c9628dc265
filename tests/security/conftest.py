"""Fixtures for the security tests: a dashboard app on SQLite (the properties tested here do
not depend on the database; tests/dashboard runs the auth boundaries on PostgreSQL too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from dashboard_server import create_app

collect_ignore = ["fixtures"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    application = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'dashboard.sqlite'}", "TESTING": True,
                              "SECRET_KEY": "test"})
    yield application
    application.extensions["sdk_dashboard"]["engine"].dispose()
