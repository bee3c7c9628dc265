"""Deleting runs (the ``runs delete`` admin command): one run, or a site's runs in a time range.

Test rows, per-suite counters and ledger entries go with their run (``ON DELETE CASCADE``), so a
deleted run's records can be uploaded again. Every cell that pointed at a deleted run points at
its newest remaining run afterwards, and its failure streak and version sets are recomputed, so
neither the summary nor the compatibility matrix shows a hole or a stale streak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .db import chunks
from .models import Run, Site, SuiteRun, TestResultRow
from .repair import repair_cells
from .streaks import Cell


@dataclass(frozen=True)
class Selection:
    runs: list[tuple[int, str, str, datetime]]  # (run number, client run id, variant, started at)
    tests: int
    cells: list[Cell]


def select_runs(db: Session, site: Site, *, number: int | None = None, run_id: str | None = None,
                since: datetime | None = None, until: datetime | None = None) -> Selection:
    """The runs of ``site`` matching every given criterion (run number, client run id, started
    at or after ``since``, before ``until``), with what deleting them would remove."""
    query = select(Run).where(Run.site_id == site.id)
    if number is not None:
        query = query.where(Run.id == number)
    if run_id is not None:
        query = query.where(Run.run_id == run_id)
    if since is not None:
        query = query.where(Run.started_at >= since)
    if until is not None:
        query = query.where(Run.started_at < until)
    runs = [(run.id, run.run_id, run.variant, run.started_at)
            for run in db.scalars(query.order_by(Run.started_at, Run.id))]
    tests, cells = 0, set[Cell]()
    for part in chunks(runs):
        ids = [run[0] for run in part]
        tests += db.scalar(select(func.count()).select_from(TestResultRow).where(TestResultRow.run_id.in_(ids))) or 0
        cells.update(db.execute(select(SuiteRun.site_id, SuiteRun.variant, SuiteRun.suite)
                                .where(SuiteRun.run_id.in_(ids)).distinct()).tuples())
    return Selection(runs=runs, tests=tests, cells=sorted(cells))


def delete_runs(db: Session, selection: Selection) -> None:
    """Delete the selected runs and repair the cells they were the latest of."""
    for part in chunks(selection.runs):
        db.execute(delete(Run).where(Run.id.in_([run[0] for run in part])).execution_options(synchronize_session=False))
    repair_cells(db, selection.cells)
