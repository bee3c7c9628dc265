"""the failures page's indexes for what is failing now

The failures page now reads what is failing now: the failed tests of the newest run of each cell
in a failure streak (``latest_results`` with a stored ``first_failing_run_id``).

* ``ix_latest_results_failing`` (new, partial) gives a site's failing cells newest first, so the
  page stops at its per-site limit even at a site with thousands of failing suites, and reads
  nothing of the cells that pass.
* ``ix_test_results_failing`` is rebuilt with the suite before the fingerprint: the page reads
  one suite's failed tests of a run, and with the fingerprint first that was a scan of all the
  run's failed tests for each suite (one run of 10,000 failing suites: 500 cells × 10,000 index
  entries, 365 ms a page). It still holds only failed and errored tests.

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

FAILING_CELL = sa.text("first_failing_run_id IS NOT NULL")
FAILED_TEST = sa.text("fingerprint IS NOT NULL")


def _failing_tests_index(columns: list[str]) -> None:
    op.drop_index("ix_test_results_failing", table_name="test_results")
    op.create_index("ix_test_results_failing", "test_results", columns,
                    sqlite_where=FAILED_TEST, postgresql_where=FAILED_TEST, postgresql_include=["id"])


def upgrade() -> None:
    op.create_index("ix_latest_results_failing", "latest_results", ["site_id", "started_at"],
                    sqlite_where=FAILING_CELL, postgresql_where=FAILING_CELL)
    _failing_tests_index(["run_id", "suite", "fingerprint", "test_id"])


def downgrade() -> None:
    _failing_tests_index(["run_id", "fingerprint", "suite", "test_id"])
    op.drop_index("ix_latest_results_failing", table_name="latest_results")
