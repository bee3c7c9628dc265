"""failed tests carry a fingerprint

``test_results.fingerprint`` holds, for a failed or errored test, 16 hex digits of the sha256 of
its normalised message and traceback shape (``exaworks_sdk.fingerprint``), computed at ingest, so
the failures page groups the same failure across sites with an index instead of re-reading
messages. Existing failed rows are fingerprinted here, in batches.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from exaworks_sdk.fingerprint import fingerprint

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("test_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(16), nullable=True))
        batch_op.create_index("ix_test_results_fingerprint", ["fingerprint"])
    conn = op.get_bind()
    rows = sa.table("test_results", sa.column("id", sa.Integer), sa.column("status", sa.String),
                    sa.column("message", sa.Text), sa.column("output", sa.Text),
                    sa.column("fingerprint", sa.String))
    last = 0
    while True:
        batch = conn.execute(sa.select(rows.c.id, rows.c.message, rows.c.output)
                             .where(rows.c.status.in_(["failed", "error"]), rows.c.id > last)
                             .order_by(rows.c.id).limit(BATCH)).all()
        if not batch:
            break
        for row_id, message, output in batch:
            conn.execute(rows.update().where(rows.c.id == row_id)
                         .values(fingerprint=fingerprint(message or "", output or "")))
        last = batch[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("test_results", schema=None) as batch_op:
        batch_op.drop_index("ix_test_results_fingerprint")
        batch_op.drop_column("fingerprint")
