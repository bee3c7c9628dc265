"""The known suites, and the "other" cell that folds every other suite of a (site, variant).

The known set is the suite registry's names (``registry.py``: the manifest's suites, shipped as
``generated/known_suites.txt``) plus ``EXTRA_SUITES`` from the config. Only they get a summary column, so one
site cannot widen the matrix for everyone. A row's other suites are folded at ingest into one
``folded_cells`` row (``refresh_folded``), so the summary reads one row per (site, variant)
however many suites a site sends. A row computed against another known set (the config or the
registry changed since) is folded again when read, until the site's next upload stores it.
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any, cast

from flask import current_app, has_app_context
from sqlalchemy import Table, bindparam, delete, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from exaworks_sdk import status as rule
from exaworks_sdk.status import COUNTERS, Shown

from .models import FoldedCell, LatestResult, Run, SuiteRun
from .registry import registry
from .schemas import OtherCell

Pair = tuple[int, str]  # (site id, variant)


def _registry_suites() -> frozenset[str]:
    return frozenset(registry())


def known_suites() -> frozenset[str]:
    """Suites that get a summary column: the suite registry's, plus ``EXTRA_SUITES`` (a comma
    list) for suites a deployment adds, such as a facility's own JUnit suites."""
    extra = current_app.config.get("EXTRA_SUITES") if has_app_context() else None
    return _registry_suites() | {name.strip() for name in (extra or "").split(",") if name.strip()}


def known_key(known: Collection[str]) -> str:
    return hashlib.sha256("\n".join(sorted(known)).encode()).hexdigest()[:64]


def fold(db: Session, pairs: Iterable[Pair] | None, known: Collection[str]) -> dict[Pair, OtherCell]:
    """The other cell of each pair (of every pair when None), in one grouped statement: rows
    differ only in which counters are non-zero, which is all the status rule reads, so each
    group's status comes from ``exaworks_sdk.status`` like any cell's."""
    every, some = _fold_statements()
    params: dict[str, Any] = {"b_known": sorted(known)}
    if pairs is not None:
        params["b_pairs"] = sorted(set(pairs))
        if not params["b_pairs"]:
            return {}
    db.flush()  # read through the Core connection, which does not autoflush
    statuses: dict[Pair, list[Shown]] = defaultdict(list)
    out: dict[Pair, OtherCell] = {}
    for row in db.connection().execute(every if pairs is None else some, params):
        status = rule.in_run({c: int(bool(getattr(row, c))) for c in COUNTERS}, bool(row.finished))
        key = (row.site_id, row.variant)
        statuses[key].append(status)
        cell = out.setdefault(key, OtherCell(status=status, suites=0, failing=0))
        cell.suites += row.n
        cell.failing += row.n if rule.is_failing(status) else 0
        cell.status = rule.worst(statuses[key])
    return out


@functools.cache
def _fold_statements() -> tuple[Any, Any]:
    """``fold``'s statement for every pair and for given pairs, built once (the known suites
    and the pairs are bound parameters)."""
    flags = [(getattr(SuiteRun, c) > 0).label(c) for c in COUNTERS]
    finished = Run.finished_at.is_not(None).label("finished")
    every = (
        select(LatestResult.site_id, LatestResult.variant, finished, *flags, func.count().label("n"))
        .join(Run, Run.id == LatestResult.run_id)
        .join(SuiteRun, (SuiteRun.run_id == LatestResult.run_id) & (SuiteRun.suite == LatestResult.suite))
        .where(LatestResult.suite.not_in(bindparam("b_known", expanding=True)))
        .group_by(LatestResult.site_id, LatestResult.variant, finished, *flags)
    )
    some = every.where(tuple_(LatestResult.site_id, LatestResult.variant).in_(bindparam("b_pairs", expanding=True)))
    return every, some


def refresh_folded(db: Session, pairs: Iterable[Pair]) -> None:
    """Store the other cell of each (site, variant) an upload (or a deletion) touched."""
    wanted = sorted(set(pairs))
    if not wanted:
        return
    known = known_suites()
    folded = fold(db, wanted, known)
    empty = [pair for pair in wanted if pair not in folded]
    clear, upsert = _store_statements(db.get_bind().dialect.name)
    conn = db.connection()
    if empty:
        conn.execute(clear, {"b_pairs": empty})
    if folded:  # an upsert: concurrent uploads of one site update the row in turn
        key = known_key(known)
        conn.execute(upsert, [{"site_id": site_id, "variant": variant, "known": key, "suites": cell.suites,
                               "failing": cell.failing, "status": cell.status.value}
                              for (site_id, variant), cell in sorted(folded.items())])


@functools.cache
def _store_statements(dialect: str) -> tuple[Any, Any]:
    """``refresh_folded``'s delete and upsert, built once per dialect."""
    table = cast(Table, FoldedCell.__table__)
    clear = delete(table).where(tuple_(table.c.site_id, table.c.variant).in_(bindparam("b_pairs", expanding=True)))
    upsert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    upsert = upsert.on_conflict_do_update(
        index_elements=["site_id", "variant"],
        set_={name: upsert.excluded[name] for name in ("known", "suites", "failing", "status")})
    return clear, upsert


def other_cells(db: Session, site_ids: list[int], known: Collection[str]) -> dict[Pair, OtherCell]:
    """The stored other cells of these sites; any stored against another known set is folded
    again here (the slow path, only until that site uploads again)."""
    if not site_ids:
        return {}
    key = known_key(known)
    out: dict[Pair, OtherCell] = {}
    stale = []
    for row in db.scalars(select(FoldedCell).where(FoldedCell.site_id.in_(site_ids))):
        if row.known != key:
            stale.append((row.site_id, row.variant))
        else:
            out[(row.site_id, row.variant)] = OtherCell(status=Shown(row.status), suites=row.suites,
                                                        failing=row.failing)
    if stale:
        out.update(fold(db, stale, known))
    return out
