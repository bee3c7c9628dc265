"""suite_runs counts 'known' and 'fixed' test outcomes

A recorded known incompatibility that reproduces is 'known'; one that stopped reproducing is
'fixed' (shown as "fixed?"). Each (run, suite) counts them beside the other outcomes, so the
summary shows them without reading test rows (exaworks_sdk.status.COUNTERS).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("suite_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("known", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("fixed", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("suite_runs", schema=None) as batch_op:
        batch_op.drop_column("fixed")
        batch_op.drop_column("known")
