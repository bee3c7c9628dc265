"""indexes for the pages that read a recent window

The failures page reads the failed tests of the runs of the last days. Without these indexes it
walked ``ix_test_results_fingerprint`` over every failed test ever stored and dropped the old
ones, so its cost grew with history. ``ix_runs_started`` finds the runs of the window;
``ix_test_results_failing`` (partial: only rows with a fingerprint, i.e. failed or errored
tests) gives each run's failed tests without reading its passed ones.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

FAILING = sa.text("fingerprint IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_runs_started", "runs", ["started_at"])
    op.create_index("ix_test_results_failing", "test_results", ["run_id"],
                    sqlite_where=FAILING, postgresql_where=FAILING)


def downgrade() -> None:
    op.drop_index("ix_test_results_failing", table_name="test_results")
    op.drop_index("ix_runs_started", table_name="runs")
