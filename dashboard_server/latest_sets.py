"""Version sets kept at ingest: for each (site, variant, suite), the newest run with each set of
stored components (``models.LatestSetRun``).

The compatibility matrix (``compat.py``) reads the rows of its window, one per set and cell,
instead of grouping every run of the window by its components, so its cost follows the sets
that were run, not how often. Ingest upserts one row per (run, suite) it touches, in the
statement that keeps ``latest_results`` (``ingest/store.py``). The cells of a run whose
components changed after its suites were stored (a ``run_start`` that came after a JUnit
upload) and of deleted runs are recomputed here, as the migration that added the table did.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from .db import chunks
from .models import LatestSetRun, Run, SuiteRun
from .streaks import Cell


def components_key(components: Any) -> str:
    """The stored components as canonical JSON (sorted keys), hashed: one key per set, whatever
    order a client listed them in."""
    canonical = orjson.dumps(components if isinstance(components, dict) else {}, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def refresh_latest_sets(db: Session, cells: Iterable[Cell]) -> None:
    """Recompute the version sets of these cells from their suite runs: each set's newest run.
    Reads a cell's whole history, so it is for repairs and backfills, not for every upload."""
    chosen = sorted(set(cells))
    if not chosen:
        return
    keys: dict[int, str] = {}  # run → key: each run's components are decoded once
    for part in chunks(chosen):
        db.execute(delete(LatestSetRun).where(tuple_(LatestSetRun.site_id, LatestSetRun.variant, LatestSetRun.suite).in_(part))
                   .execution_options(synchronize_session=False))
    for site_id, variant, suite in chosen:
        runs = db.execute(
            select(SuiteRun.run_id, SuiteRun.started_at)
            .where(SuiteRun.site_id == site_id, SuiteRun.variant == variant, SuiteRun.suite == suite)
            .order_by(SuiteRun.started_at.desc(), SuiteRun.id.desc())).tuples().all()
        _read_keys(db, [run_pk for run_pk, _ in runs if run_pk not in keys], keys)
        newest: dict[str, dict[str, Any]] = {}
        for run_pk, started_at in runs:  # newest first: the first run of a key is its newest
            newest.setdefault(keys[run_pk], {"site_id": site_id, "variant": variant, "suite": suite,
                                             "components_key": keys[run_pk], "run_id": run_pk,
                                             "started_at": started_at})
        if newest:
            db.execute(insert(LatestSetRun), list(newest.values()))


def _read_keys(db: Session, runs: list[int], keys: dict[int, str]) -> None:
    for part in chunks(runs):
        for run_pk, components in db.execute(select(Run.id, Run.components).where(Run.id.in_(part))).tuples():
            keys[run_pk] = components_key(components)
