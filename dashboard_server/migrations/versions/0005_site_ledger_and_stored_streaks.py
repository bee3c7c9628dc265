"""the idempotency ledger is per site; failure streaks and folded "other" cells are stored

* ``seen_records`` is keyed by (site_id, record_id), and ``test_results.record_id`` is no longer
  unique across sites: the same record id (or the same legacy payload) from two sites stores twice.
* ``latest_results`` keeps each cell's failure streak (``failing_since``, first failing and last
  passing run), maintained at ingest, so pages read it instead of querying per failing cell.
  Existing cells are backfilled here. An index on ``suite`` lets a suite's badge read only its
  own cells.
* ``folded_cells`` holds, per (site, variant), the suites outside the known set folded into one
  summary cell (``dashboard_server/folding.py``); backfilled here too.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("seen_records", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("pk_seen_records", type_="primary")
        batch_op.create_primary_key("pk_seen_records", ["site_id", "record_id"])
    with op.batch_alter_table("test_results", schema=None) as batch_op:
        batch_op.drop_constraint("uq_test_results_record_id", type_="unique")
    with op.batch_alter_table("latest_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("first_failing_run_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_passing_run_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_latest_results_suite", ["suite"], unique=False)
    op.create_table(
        "folded_cells",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("known", sa.String(length=64), nullable=False),
        sa.Column("suites", sa.Integer(), nullable=False),
        sa.Column("failing", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_folded_cells_site_id_sites"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("site_id", "variant", name=op.f("pk_folded_cells")),
    )
    _backfill()


def _backfill() -> None:
    """Streaks and folded cells of the existing data, computed by the code ingest uses."""
    from sqlalchemy.orm import Session

    from dashboard_server.folding import refresh_folded
    from dashboard_server.streaks import refresh_streaks

    session = Session(bind=op.get_bind())
    cells = [(row[0], row[1], row[2]) for row in
             session.execute(sa.text("SELECT site_id, variant, suite FROM latest_results"))]
    refresh_streaks(session, cells)
    refresh_folded(session, [(site_id, variant) for site_id, variant, _ in cells])
    session.flush()


def downgrade() -> None:
    op.drop_table("folded_cells")
    with op.batch_alter_table("latest_results", schema=None) as batch_op:
        batch_op.drop_index("ix_latest_results_suite")
        batch_op.drop_column("last_passing_run_id")
        batch_op.drop_column("first_failing_run_id")
        batch_op.drop_column("failing_since")
    with op.batch_alter_table("test_results", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_test_results_record_id", ["record_id"])
    with op.batch_alter_table("seen_records", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("pk_seen_records", type_="primary")
        batch_op.create_primary_key("pk_seen_records", ["record_id"])
