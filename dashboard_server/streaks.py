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
from typing import Any, NamedTuple, cast

from sqlalchemy import Integer, String, Table, and_, bindparam, func, literal_column, or_, select, true, tuple_, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from exaworks_sdk import status as rule
from exaworks_sdk.status import COUNTERS, FAILING, Status

from .db import IN_CELLS, chunks
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
    cells; a failing one costs the two indexed lookups of ``failure_streak`` (on PostgreSQL, made
    for all the failing cells of a chunk in one statement)."""
    wanted = sorted(set(cells))
    latest, store = _refresh_statements()
    db.flush()  # the reads below go through the Core connection, which does not autoflush
    conn = db.connection()
    values: list[dict[str, Any]] = []
    batched = db.get_bind().dialect.name == "postgresql"
    for part in chunks(wanted, IN_CELLS):
        rows = conn.execute(latest, {"b_cells": part}).tuples()
        failing: list[Cell] = []
        for site_id, variant, suite, finished, *counts in rows:
            if rule.is_failing(rule.in_run(dict(zip(COUNTERS, counts, strict=True)), finished)):
                failing.append((site_id, variant, suite))
            else:
                values.append(_stored(site_id, variant, suite, None, None))
        if not batched:  # SQLite is in-process: two indexed reads per cell cost no round trip
            values.extend(_stored(*cell, *_cell_lookups(db, *cell)) for cell in failing)
        elif failing:  # one round trip for every failing cell of the chunk
            for site_id, variant, suite, *found in conn.execute(_batched_lookups(), _arrays(failing)).tuples():
                first, last = (_Row(*found[:2]) if found[0] else None), (_Row(*found[2:]) if found[2] else None)
                values.append(_stored(site_id, variant, suite, first, last))
    if values:
        conn.execute(store, values)


def _stored(site_id: int, variant: str, suite: str, first: Any, last: Any) -> dict[str, Any]:
    """``refresh_streaks``' update of one cell from its first failing and last passing rows."""
    return {"b_site": site_id, "b_variant": variant, "b_suite": suite,
            "failing_since": first.started_at if first else None,
            "first_failing_run_id": first.run_id if first else None,
            "last_passing_run_id": last.run_id if first and last else None}


def _arrays(cells: list[Cell]) -> dict[str, list[Any]]:
    return {"b_sites": [c[0] for c in cells], "b_variants": [c[1] for c in cells], "b_suites": [c[2] for c in cells]}


class _Row(NamedTuple):
    started_at: datetime
    run_id: int


@functools.cache
def _batched_lookups() -> Any:
    """``_cell_lookups`` for many cells in one PostgreSQL statement: the cells as three arrays,
    each cell's last pass and first failure after it (or ever) as two LATERAL reads of
    ``ix_suite_runs_cell``. Rows: (site id, variant, suite, first failing, last passing)."""
    cells = (func.unnest(bindparam("b_sites", type_=postgresql.ARRAY(Integer)),
                         bindparam("b_variants", type_=postgresql.ARRAY(String)),
                         bindparam("b_suites", type_=postgresql.ARRAY(String)))
             .table_valued("site_id", "variant", "suite").render_derived("cell"))
    in_cell = (SuiteRun.site_id == cells.c.site_id, SuiteRun.variant == cells.c.variant,
               SuiteRun.suite == cells.c.suite)
    last = (select(SuiteRun.started_at, SuiteRun.run_id).where(*in_cell, _passing())
            .order_by(SuiteRun.started_at.desc(), SuiteRun.id.desc()).limit(1).lateral("last_passing"))
    since = func.coalesce(last.c.started_at, literal_column("'-infinity'::timestamp"))
    first = (select(SuiteRun.started_at, SuiteRun.run_id).where(*in_cell, _failing(), SuiteRun.started_at > since)
             .order_by(SuiteRun.started_at, SuiteRun.id).limit(1).lateral("first_failing"))
    return (select(cells.c.site_id, cells.c.variant, cells.c.suite, first.c.started_at, first.c.run_id,
                   last.c.started_at, last.c.run_id)
            .select_from(cells).outerjoin(last, true()).outerjoin(first, true()))


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
