"""Cells whose runs changed under them, recomputed whole from their suite runs: the latest
pointer, the failure streak, the version sets and the row's folded "other" cell.

Ingest moves these forward one batch at a time; a change to stored runs that is not an
arrival (runs deleted by ``sdk-dashboard runs delete``, a run whose ``run_start`` came after its
JUnit results and names another variant or components) can move them back, so the cells it
touches are read again here.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from .db import chunks
from .folding import refresh_folded
from .latest_sets import refresh_latest_sets
from .models import LatestResult, SuiteRun
from .streaks import Cell, refresh_streaks


def repair_cells(db: Session, cells: Iterable[Cell]) -> None:
    """Recompute everything kept per cell for these (site, variant, suite) cells."""
    chosen = sorted(set(cells))
    if not chosen:
        return
    for part in chunks(chosen):
        db.execute(delete(LatestResult).where(tuple_(LatestResult.site_id, LatestResult.variant, LatestResult.suite)
                                              .in_(part)).execution_options(synchronize_session=False))
    db.expire_all()
    for site_id, variant, suite in chosen:
        newest = db.execute(
            select(SuiteRun.run_id, SuiteRun.started_at)
            .where(SuiteRun.site_id == site_id, SuiteRun.variant == variant, SuiteRun.suite == suite)
            .order_by(SuiteRun.started_at.desc(), SuiteRun.id.desc()).limit(1)).first()
        if newest is not None:
            db.add(LatestResult(site_id=site_id, variant=variant, suite=suite, run_id=newest.run_id,
                                started_at=newest.started_at))
    db.flush()
    refresh_streaks(db, chosen)
    refresh_latest_sets(db, chosen)
    refresh_folded(db, {(site_id, variant) for site_id, variant, _ in chosen})
