"""Since when has a suite been failing at a site, and what changed when it started?

A failure streak is the run of failing (failed or error) results for one site ×
variant × suite since its last pass. Runs where the suite was only skipped
neither start nor end a streak. Both questions are answered with two indexed
lookups on ``suite_runs`` (ix_suite_runs_cell), whatever the stored history.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, or_, select, tuple_, update
from sqlalchemy.orm import Session

from exaworks_sdk import status as rule
from exaworks_sdk.status import COUNTERS, FAILING, Status

from .models import LatestResult, Run, SuiteRun

# Run fields compared between the last passing and the first failing run.
RUN_FIELDS = ("sdk_version", "variant", "branch", "commit", "hostname")
# Environment facts worth showing when they change (the rest is noise such as times and ids).
ENVIRONMENT_FACTS = ("python", "os", "kernel", "arch", "mpi", "schedulers", "cpu_count")


@dataclass(frozen=True)
class Streak:
    first_failing: SuiteRun
    last_passing: SuiteRun | None


def _cell(site_id: int, variant: str, suite: str) -> tuple[Any, ...]:
    return (SuiteRun.site_id == site_id, SuiteRun.variant == variant, SuiteRun.suite == suite)


# exaworks_sdk.status in SQL: a (run, suite) is failing when a failing outcome was counted; it
# ends a streak when nothing failed and something other than a skip ran.
_FAILING = [getattr(SuiteRun, s) for s in COUNTERS if s in FAILING]
_RAN = [getattr(SuiteRun, s) for s in COUNTERS if s not in FAILING and s != Status.SKIPPED]


def _failing() -> Any:
    return or_(*(column > 0 for column in _FAILING))


def _passing() -> Any:
    return and_(*(column == 0 for column in _FAILING), or_(*(column > 0 for column in _RAN)))


def failure_streak(db: Session, site_id: int, variant: str, suite: str,
                   until: datetime | None = None) -> Streak | None:
    """The streak a cell is in at ``until`` (default: now), or None when it was not failing."""
    cell = _cell(site_id, variant, suite) + ((SuiteRun.started_at <= until,) if until else ())
    first_failing, last_passing = _lookups(db, cell, SuiteRun)
    if first_failing is None:
        return None
    return Streak(first_failing=first_failing[0], last_passing=last_passing[0] if last_passing else None)


def _lookups(db: Session, cell: tuple[Any, ...], *columns: Any) -> tuple[Any, Any]:
    """The first failing and the last passing ``suite_runs`` row of a streak (``columns`` of
    each, or None): two indexed lookups."""
    last_passing = db.execute(
        select(*columns, SuiteRun.started_at.label("since")).where(*cell, _passing())
        .order_by(SuiteRun.started_at.desc(), SuiteRun.id.desc()).limit(1)
    ).first()
    query = select(*columns).where(*cell, _failing())
    if last_passing is not None:
        query = query.where(SuiteRun.started_at > last_passing.since)
    return db.execute(query.order_by(SuiteRun.started_at, SuiteRun.id).limit(1)).first(), last_passing


Cell = tuple[int, str, str]  # (site id, variant, suite)
CHUNK = 300


@functools.cache
def _streak_statements() -> tuple[Any, Any, Any]:
    """``_lookups`` for ``refresh_streaks`` as three statements built once, with the cell (and the
    last pass's time) as bound parameters: built per cell they cost more to construct and key
    for the statement cache than to run."""
    cell = (SuiteRun.site_id == bindparam("b_site"), SuiteRun.variant == bindparam("b_variant"),
            SuiteRun.suite == bindparam("b_suite"))
    columns = (SuiteRun.started_at, SuiteRun.run_id)
    last_passing = (select(*columns).where(*cell, _passing())
                    .order_by(SuiteRun.started_at.desc(), SuiteRun.id.desc()).limit(1))
    first_failing = select(*columns).where(*cell, _failing()).order_by(SuiteRun.started_at, SuiteRun.id).limit(1)
    first_after = (select(*columns).where(*cell, _failing(), SuiteRun.started_at > bindparam("b_since"))
                   .order_by(SuiteRun.started_at, SuiteRun.id).limit(1))
    return last_passing, first_failing, first_after


def _cell_lookups(db: Session, site_id: int, variant: str, suite: str) -> tuple[Any, Any]:
    """``_lookups(db, _cell(site_id, variant, suite), SuiteRun.started_at, SuiteRun.run_id)``."""
    last_passing, first_failing, first_after = _streak_statements()
    params: dict[str, Any] = {"b_site": site_id, "b_variant": variant, "b_suite": suite}
    conn = db.connection()  # Core rows: the ORM's execute costs more than these indexed reads
    last = conn.execute(last_passing, params).first()
    if last is None:
        return conn.execute(first_failing, params).first(), None
    return conn.execute(first_after, {**params, "b_since": last.started_at}).first(), last


def refresh_streaks(db: Session, cells: Iterable[Cell]) -> None:
    """Store the current failure streak of each cell in its ``latest_results`` row.

    Called at ingest for every cell a batch touched (and by migration 0005 for all cells), so
    the summary, site page and badges read streaks instead of computing one per failing cell.
    A cell whose latest result is not failing costs nothing beyond one read of the batch's
    cells; a failing one costs the two indexed lookups of ``failure_streak``."""
    wanted = sorted(set(cells))
    latest, store = _refresh_statements()
    db.flush()  # the reads below go through the Core connection, which does not autoflush
    conn = db.connection()
    values: list[dict[str, Any]] = []
    for start in range(0, len(wanted), CHUNK):
        rows = conn.execute(latest, {"b_cells": wanted[start:start + CHUNK]}).tuples()
        for site_id, variant, suite, finished, *counts in rows:
            status = rule.in_run(dict(zip(COUNTERS, counts, strict=True)), finished)
            # failure_streak's lookups, reading two columns instead of loading SuiteRun objects
            first, last = _cell_lookups(db, site_id, variant, suite) if rule.is_failing(status) else (None, None)
            values.append({
                "b_site": site_id, "b_variant": variant, "b_suite": suite,
                "failing_since": first.started_at if first else None,
                "first_failing_run_id": first.run_id if first else None,
                "last_passing_run_id": last.run_id if first and last else None,
            })
    if values:
        conn.execute(store, values)


@functools.cache
def _refresh_statements() -> tuple[Any, Any]:
    """``refresh_streaks``' read of the cells' latest counters and its update, built once."""
    latest = (
        select(LatestResult.site_id, LatestResult.variant, LatestResult.suite, Run.finished_at.is_not(None),
               *(getattr(SuiteRun, c) for c in COUNTERS))
        .join(SuiteRun, (SuiteRun.run_id == LatestResult.run_id) & (SuiteRun.suite == LatestResult.suite))
        .join(Run, Run.id == LatestResult.run_id)
        .where(tuple_(LatestResult.site_id, LatestResult.variant, LatestResult.suite)
               .in_(bindparam("b_cells", expanding=True)))
    )
    table = cast(Table, LatestResult.__table__)
    store = update(table).where(table.c.site_id == bindparam("b_site"), table.c.variant == bindparam("b_variant"),
                                table.c.suite == bindparam("b_suite"))
    return latest, store


def what_changed(before: Run, after: Run) -> dict[str, tuple[Any, Any]]:
    """Component versions, run fields and key environment facts that differ between two runs."""
    changes: dict[str, tuple[Any, Any]] = {}
    old, new = before.components or {}, after.components or {}
    for name in sorted(old.keys() | new.keys()):
        if old.get(name) != new.get(name):
            changes[name] = (old.get(name), new.get(name))
    for field in RUN_FIELDS:
        if getattr(before, field) != getattr(after, field):
            changes[field] = (getattr(before, field), getattr(after, field))
    old_env, new_env = before.environment or {}, after.environment or {}
    for fact in ENVIRONMENT_FACTS:
        if old_env.get(fact) != new_env.get(fact):
            changes[f"environment.{fact}"] = (old_env.get(fact), new_env.get(fact))
    return changes
