"""structured run identity; last contact apart from last seen; site time zones

A run was named by one string, ``key``: the run id, or for legacy runs the run id and the
branch joined with '#', so run id "nightly#feature" on branch "x" and run id "nightly" on
branch "feature#x" were the same run. A run is now named by columns under one unique
constraint: (site, run_id, key_branch, key_variant), the legacy install variant included.
``generated_id`` marks run ids the dashboard made up for clients that sent none.

Sites get ``last_contact_at`` (any accepted upload; ``last_seen_at`` now moves only with test
results) and ``timezone`` (how naive legacy timestamps are read). Runs get ``assumed_utc``.

On SQLite the runs table is rebuilt; ``migrate.py`` switches foreign keys off around it, or
dropping the old table would cascade to every test row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("last_contact_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE sites SET last_contact_at = last_seen_at")

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_branch", sa.String(length=256), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("key_variant", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("generated_id", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("assumed_utc", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Records and JUnit runs: the run id alone. Legacy runs: the branch (without its "[variant]"
    # suffix, which split_branch already moved to `variant`) and the variant.
    op.execute("UPDATE runs SET key_branch = '', key_variant = '' WHERE source <> 'legacy'")
    op.execute("UPDATE runs SET key_branch = COALESCE(branch, ''), key_variant = variant WHERE source = 'legacy'")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_constraint("uq_runs_site_id_key", type_="unique")
        batch_op.drop_column("key")
        batch_op.create_unique_constraint(
            op.f("uq_runs_site_id_run_id_key_branch_key_variant"), ["site_id", "run_id", "key_branch", "key_variant"]
        )


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=1024), nullable=False, server_default=""))
    # The old string keys, as the old code would look them up; a run whose variant was never
    # known gets its number appended so that no two keys collide.
    op.execute("UPDATE runs SET key = run_id WHERE source <> 'legacy'")
    op.execute(
        "UPDATE runs SET key = CASE"
        " WHEN key_variant IS NULL THEN run_id || '#' || key_branch || '#' || CAST(id AS VARCHAR(16))"
        " WHEN key_variant = 'default' THEN run_id || '#' || key_branch"
        " ELSE run_id || '#' || key_branch || '[' || key_variant || ']' END"
        " WHERE source = 'legacy'"
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_constraint("uq_runs_site_id_run_id_key_branch_key_variant", type_="unique")
        batch_op.drop_column("assumed_utc")
        batch_op.drop_column("generated_id")
        batch_op.drop_column("key_variant")
        batch_op.drop_column("key_branch")
        batch_op.create_unique_constraint(op.f("uq_runs_site_id_key"), ["site_id", "key"])
        batch_op.alter_column("key", server_default=None)
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("last_contact_at")
        batch_op.drop_column("timezone")
