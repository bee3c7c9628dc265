"""Fixtures for the fault tests. Every test here runs real processes (gunicorn, PostgreSQL,
``sdk-test``), kills some of them, and then counts what arrived.

``db_url`` is parametrised over SQLite and PostgreSQL like the dashboard tests: PostgreSQL runs
against ``SDK_TEST_POSTGRES_URL`` and is skipped with a reason when it is unset.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

# --import-mode=importlib keeps test directories off sys.path; the helpers are imported by name.
sys.path.insert(0, str(Path(__file__).parent))

PG_URL = os.environ.get("SDK_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dashboard.sqlite'}"
    if not PG_URL:
        pytest.skip("SDK_TEST_POSTGRES_URL is not set (start one with tests/dashboard/start_postgres.sh)")
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return PG_URL

collect_ignore = ["fixtures"]
