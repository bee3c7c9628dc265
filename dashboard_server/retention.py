"""Retention: drop the bulky logs of old runs, keep every status (history and sparklines)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .models import LatestResult, Run, TestResultRow, utcnow


def prune_logs(db: Session, days: int) -> int:
    """Blank output and message of tests in runs older than ``days``; never touch a run that is
    still the latest for some (site, variant, suite). Returns the number of rows changed."""
    if days < 1:
        raise ValueError("retention must keep at least one day")
    cutoff = utcnow() - timedelta(days=days)
    old_runs = select(Run.id).where(Run.started_at < cutoff, Run.id.not_in(select(LatestResult.run_id)))
    result = db.execute(
        update(TestResultRow)
        .where(TestResultRow.run_id.in_(old_runs), or_(TestResultRow.output != "", TestResultRow.message != ""))
        .values(output="", message="")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
