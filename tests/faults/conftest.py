"""Fixtures for the fault tests. Every test here runs real processes (gunicorn, PostgreSQL,
``sdk-test``), kills some of them, and then counts what arrived.

``db_url`` (tests/conftest.py) runs each test on SQLite, and on PostgreSQL when
``SDK_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

collect_ignore = ["fixtures"]
