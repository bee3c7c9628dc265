"""drop the index of all runs by start alone

``ix_runs_started`` (migration 0009) found the failures page's window when that page read every
site's runs at once. It now reads each site's runs through ``ix_runs_site_started``, and no
other read needs runs by start alone (retention reads most of history; deletion is per site).
On PostgreSQL the index misled the planner: it walked it once per site, reading every site's
runs of the window and dropping the others' (12 × 812 runs at 3M results, 4.1 ms of the
window's execution against 2.5 without it), a cost that grew with the number of sites.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_runs_started", table_name="runs")


def downgrade() -> None:
    op.create_index("ix_runs_started", "runs", ["started_at"])
