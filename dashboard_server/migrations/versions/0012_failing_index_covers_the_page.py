"""the failed-tests index holds what the failures page reads

``ix_test_results_failing`` held only ``run_id``, so the failures page read every failed test's
table row (message and output included) for its fingerprint, suite and test id. With those in
the index the page reads the index alone (SQLite: a covering index, as the row id is in every
index; PostgreSQL: an index-only scan, with the id included). The index still holds only failed
and errored tests, so ingest writes what it wrote.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FAILING = sa.text("fingerprint IS NOT NULL")


def _failing_index(columns: list[str], include: list[str]) -> None:
    op.drop_index("ix_test_results_failing", table_name="test_results")
    op.create_index("ix_test_results_failing", "test_results", columns,
                    sqlite_where=FAILING, postgresql_where=FAILING, postgresql_include=include)


def upgrade() -> None:
    _failing_index(["run_id", "fingerprint", "suite", "test_id"], ["id"])


def downgrade() -> None:
    _failing_index(["run_id"], [])
