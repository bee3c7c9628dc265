"""Fixtures shared by every test package.

The dashboard fixtures (``db_url``, ``client``, ``token``, ``other_token``) serve the
dashboard, fault and security tests; each package defines its own ``app`` from ``db_url``.
PostgreSQL runs against ``SDK_TEST_POSTGRES_URL`` and is skipped with a reason when it is unset.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("SDK_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def sdk_tree(tmp_path: Path) -> Path:
    """A private copy of the manifest, site registry and generated files, safe to edit."""
    for rel in ("components", "ci", "spack", "docs/generated", "docker", "dashboard_server/generated"):
        src = ROOT / rel
        if src.is_dir():
            shutil.copytree(src, tmp_path / rel, ignore=shutil.ignore_patterns("__pycache__"))
    for rel in ("POLICIES.md", ".gitlab-ci.yml"):
        if (ROOT / rel).is_file():
            shutil.copy2(ROOT / rel, tmp_path / rel)
    return tmp_path


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: SQLite in the test's directory, or the PostgreSQL test server, wiped."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dashboard.sqlite'}"
    if not PG_URL:
        pytest.skip("SDK_TEST_POSTGRES_URL is not set (start one with tests/dashboard/start_postgres.sh)")
    reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def token(app: Flask) -> str:
    """A token for site ``local-linux`` (facility local, scheduler none)."""
    from tests.support.dashboard import add_site, issue_token

    add_site(app, "local-linux", scheduler="none", machine="ci-runner")
    return issue_token(app, "local-linux")


@pytest.fixture
def other_token(app: Flask) -> str:
    """A token for site ``llnl-dane``."""
    from tests.support.dashboard import add_site, issue_token

    add_site(app, "llnl-dane", facility="LLNL", machine="dane", scheduler="slurm", expected_interval_hours=12)
    return issue_token(app, "llnl-dane")
