"""Fixtures for the dashboard tests.

``app`` is parametrised over SQLite and PostgreSQL. PostgreSQL runs against
``SDK_TEST_POSTGRES_URL`` (start one with ``tests/dashboard/start_postgres.sh``) and is skipped
with a reason when the variable is unset. The schema is always built by the Alembic migration.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

# The suite runs with --import-mode=importlib, which does not put test directories on sys.path;
# the helper module is imported by name from the test modules, so add this directory once.
sys.path.insert(0, str(Path(__file__).parent))

from dashboard_helpers import add_site, issue_token  # noqa: E402
from dashboard_server import create_app  # noqa: E402

PG_URL = os.environ.get("SDK_TEST_POSTGRES_URL")


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dashboard.sqlite'}"
    if not PG_URL:
        pytest.skip("SDK_TEST_POSTGRES_URL is not set (start one with tests/dashboard/start_postgres.sh)")
    reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def app_config(db_url: str) -> dict[str, Any]:
    return {"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test"}


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(app_config)
    yield application
    application.extensions["sdk_dashboard"]["engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def token(app: Flask) -> str:
    """A token for site ``local-linux`` (facility local, scheduler none)."""
    add_site(app, "local-linux", scheduler="none", machine="ci-runner")
    return issue_token(app, "local-linux")


@pytest.fixture
def other_token(app: Flask) -> str:
    """A token for site ``llnl-dane``."""
    add_site(app, "llnl-dane", facility="LLNL", machine="dane", scheduler="slurm", expected_interval_hours=12)
    return issue_token(app, "llnl-dane")
