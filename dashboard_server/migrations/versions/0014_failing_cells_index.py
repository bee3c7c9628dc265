"""an index of each site's failing cells, newest first

The failures page now reads what is failing now: the failed tests of the newest run of each cell
in a failure streak (``latest_results`` with a stored ``first_failing_run_id``). This partial
index gives a site's failing cells newest first, so the page stops at its per-site limit even
at a site with thousands of failing suites, and reads nothing of the cells that pass.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FAILING = sa.text("first_failing_run_id IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_latest_results_failing", "latest_results", ["site_id", "started_at"],
                    sqlite_where=FAILING, postgresql_where=FAILING)


def downgrade() -> None:
    op.drop_index("ix_latest_results_failing", table_name="latest_results")
