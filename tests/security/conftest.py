"""Fixtures for the security tests: a dashboard app on SQLite (the properties tested here do
not depend on the database; tests/dashboard runs the auth boundaries on PostgreSQL too)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

# --import-mode=importlib keeps test directories off sys.path; reuse the dashboard test helpers.
sys.path.insert(0, str(Path(__file__).parents[1] / "dashboard"))

from dashboard_helpers import add_site, issue_token  # noqa: E402
from dashboard_server import create_app  # noqa: E402

collect_ignore = ["fixtures"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    application = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'dashboard.sqlite'}", "TESTING": True,
                              "SECRET_KEY": "test"})
    yield application
    application.extensions["sdk_dashboard"]["engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def token(app: Flask) -> str:
    add_site(app, "local-linux", scheduler="none")
    return issue_token(app, "local-linux")


@pytest.fixture
def other_token(app: Flask) -> str:
    add_site(app, "llnl-dane", facility="LLNL", scheduler="slurm")
    return issue_token(app, "llnl-dane")
