"""index suite_runs (suite, started_at) for test history pages

A test's history page walks its suite's runs newest-first and probes each run's rows, so its
cost follows the page size rather than the stored history (bench/pages.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("suite_runs", schema=None) as batch_op:
        batch_op.create_index("ix_suite_runs_suite_started", ["suite", "started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("suite_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_suite_runs_suite_started")
