"""the idempotency ledger is per site; failure streaks are stored with the latest results

* ``seen_records`` is keyed by (site_id, record_id), and ``test_results.record_id`` is no longer
  unique across sites: the same record id (or the same legacy payload) from two sites stores twice.
* ``latest_results`` keeps each cell's failure streak (``failing_since``, first failing and last
  passing run), maintained at ingest, so pages read it instead of querying per failing cell.
  Existing cells are backfilled here.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
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
    _backfill_streaks()


def _backfill_streaks() -> None:
    from sqlalchemy.orm import Session

    from dashboard_server.streaks import refresh_streaks

    session = Session(bind=op.get_bind())
    cells = session.execute(sa.text("SELECT site_id, variant, suite FROM latest_results")).all()
    refresh_streaks(session, [tuple(cell) for cell in cells])
    session.flush()


def downgrade() -> None:
    with op.batch_alter_table("latest_results", schema=None) as batch_op:
        batch_op.drop_column("last_passing_run_id")
        batch_op.drop_column("first_failing_run_id")
        batch_op.drop_column("failing_since")
    with op.batch_alter_table("test_results", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_test_results_record_id", ["record_id"])
    with op.batch_alter_table("seen_records", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("pk_seen_records", type_="primary")
        batch_op.create_primary_key("pk_seen_records", ["record_id"])
