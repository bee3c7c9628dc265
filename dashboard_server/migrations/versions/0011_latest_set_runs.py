"""version sets kept at ingest

``latest_set_runs`` holds, per (site, variant, suite, stored components), the newest run with those
components (``dashboard_server/latest_sets.py``). The compatibility matrix reads the rows of
its window instead of grouping every run of the window by its components. Existing cells are
backfilled here by the code that repairs them after a deletion.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "latest_set_runs",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("suite", sa.String(length=512), nullable=False),
        sa.Column("components_key", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_latest_set_runs_run_id_runs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_latest_set_runs_site_id_sites"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("site_id", "variant", "suite", "components_key", name=op.f("pk_latest_set_runs")),
    )
    op.create_index("ix_latest_set_runs_suite_started", "latest_set_runs", ["suite", "started_at"])
    _backfill()


def _backfill() -> None:
    from sqlalchemy.orm import Session

    from dashboard_server.latest_sets import refresh_latest_sets

    session = Session(bind=op.get_bind())
    cells = [(row[0], row[1], row[2]) for row in
             session.execute(sa.text("SELECT DISTINCT site_id, variant, suite FROM suite_runs"))]
    refresh_latest_sets(session, cells)
    session.flush()


def downgrade() -> None:
    op.drop_index("ix_latest_set_runs_suite_started", table_name="latest_set_runs")
    op.drop_table("latest_set_runs")
