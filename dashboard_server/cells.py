"""Summary cells: the latest status of each (site, variant, suite), read from ``latest_results``.

The cost of a page is a fixed number of statements whatever the number of failing cells: each
cell's failure streak is stored with it at ingest (``streaks.refresh_streaks``), its sparkline
comes from one statement for all cells, and the summary gives a column only to the known suites;
whatever else a site reports is folded into its row's "other" cell (``folding``). A badge reads
only the cells it shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, select, true
from sqlalchemy.orm import Session, aliased

from exaworks_sdk import status as rule
from exaworks_sdk.status import COUNTERS, Shown

from .models import LatestResult, Run, SuiteRun
from .schemas import CellOut, Counts

Cell = tuple[int, str, str]  # (site id, variant, suite)


def _counts(row: Any) -> dict[str, int]:
    return {name: int(getattr(row, name) or 0) for name in COUNTERS}


@lru_cache(maxsize=4096)
def _point(finished: bool, *counts: int) -> Shown:
    """A sparkline point's status. A summary reads cells × 20 points, and they repeat a few
    (finished, counters) combinations, so the status rule runs once per combination."""
    return rule.in_run(dict(zip(COUNTERS, counts, strict=True)), finished)


def _where(query: Select[Any], site_ids: list[int], suites: Collection[str] | None) -> Select[Any]:
    query = query.where(LatestResult.site_id.in_(site_ids))
    return query if suites is None else query.where(LatestResult.suite.in_(sorted(suites)))


def _histories(db: Session, site_ids: list[int], suites: Collection[str] | None,
               length: int) -> dict[Cell, list[Shown]]:
    """The last ``length`` statuses of every cell, in one statement.

    Each cell's newest ``suite_runs`` rows come from the ``ix_suite_runs_cell`` index with a
    per-cell LIMIT (LATERAL on PostgreSQL, a correlated ``id IN (… LIMIT n)`` on SQLite), so the
    cost follows the number of cells, not the stored history; one query replaces one per cell.
    """
    newest = aliased(SuiteRun)
    recent = (
        select(newest.id)
        .where(newest.site_id == LatestResult.site_id, newest.variant == LatestResult.variant,
               newest.suite == LatestResult.suite)
        .order_by(newest.started_at.desc(), newest.id.desc())
        .limit(length)
    )
    columns = (SuiteRun.site_id, SuiteRun.variant, SuiteRun.suite, Run.finished_at.is_not(None),
               *(getattr(SuiteRun, c) for c in COUNTERS))
    if db.get_bind().dialect.name == "postgresql":
        lateral = recent.lateral("recent")
        query = (select(*columns).select_from(LatestResult).join(lateral, true())
                 .join(SuiteRun, SuiteRun.id == lateral.c.id))
    else:
        query = select(*columns).select_from(LatestResult).join(SuiteRun, SuiteRun.id.in_(recent))
    query = _where(query.join(Run, Run.id == SuiteRun.run_id), site_ids, suites).order_by(
        SuiteRun.site_id, SuiteRun.variant, SuiteRun.suite, SuiteRun.started_at, SuiteRun.id)
    out: dict[Cell, list[Shown]] = defaultdict(list)
    # plain tuples, no datetimes, and the Core connection (no ORM result layer): this loop runs
    # cells × length times
    for site_id, variant, suite, finished, *counts in db.connection().execute(query).all():
        out[(site_id, variant, suite)].append(_point(finished, *counts))
    return out


def cells(db: Session, site_ids: list[int], names: dict[int, str], history: int,
          suites: Collection[str] | None = None) -> list[CellOut]:
    """The cells of these sites (only of ``suites`` when given), each with its stored streak."""
    if not site_ids:
        return []
    rows = db.execute(_where(
        select(LatestResult.site_id, LatestResult.variant, LatestResult.suite, LatestResult.failing_since,
               LatestResult.first_failing_run_id, LatestResult.last_passing_run_id,
               *(getattr(SuiteRun, c) for c in COUNTERS),
               Run.id, Run.run_id, Run.started_at, Run.finished_at)
        .join(Run, Run.id == LatestResult.run_id)
        .join(SuiteRun, (SuiteRun.run_id == LatestResult.run_id) & (SuiteRun.suite == LatestResult.suite)),
        site_ids, suites).order_by(LatestResult.site_id, LatestResult.variant, LatestResult.suite)
    ).all()
    histories = _histories(db, site_ids, suites, history) if history else {}
    out = []
    for row in rows:
        counts = _counts(row)
        status = rule.in_run(counts, row.finished_at is not None)  # this suite's own status
        failing = rule.is_failing(status) and row.failing_since is not None
        out.append(CellOut(
            site=names[row.site_id], variant=row.variant, suite=row.suite,
            status=status, run=row.id, run_id=row.run_id,
            started_at=row.started_at, counts=Counts(**counts),
            history=histories.get((row.site_id, row.variant, row.suite), []),
            failing_since=row.failing_since if failing else None,
            first_failing_run=row.first_failing_run_id if failing else None,
            last_passing_run=row.last_passing_run_id if failing else None,
        ))
    return out


def suite_statuses(db: Session, suite: str) -> list[Shown]:
    """Every site's latest status of one suite: what its badge shows, and nothing more."""
    rows = db.execute(
        select(Run.finished_at.is_not(None), *(getattr(SuiteRun, c) for c in COUNTERS))
        .select_from(LatestResult)
        .join(Run, Run.id == LatestResult.run_id)
        .join(SuiteRun, (SuiteRun.run_id == LatestResult.run_id) & (SuiteRun.suite == LatestResult.suite))
        .where(LatestResult.suite == suite)
    ).tuples()
    return [rule.in_run(dict(zip(COUNTERS, counts, strict=True)), finished) for finished, *counts in rows]


def site_statuses(db: Session, site_id: int) -> list[Shown]:
    """One site's latest status of every suite it reports: what its badge shows."""
    rows = db.execute(
        select(Run.finished_at.is_not(None), *(getattr(SuiteRun, c) for c in COUNTERS))
        .select_from(LatestResult)
        .join(Run, Run.id == LatestResult.run_id)
        .join(SuiteRun, (SuiteRun.run_id == LatestResult.run_id) & (SuiteRun.suite == LatestResult.suite))
        .where(LatestResult.site_id == site_id)
    ).tuples()
    return [rule.in_run(dict(zip(COUNTERS, counts, strict=True)), finished) for finished, *counts in rows]
