"""The failures page: failing tests grouped by fingerprint across sites, with an attribution.

Each failed or errored test row carries a fingerprint computed at ingest
(``exaworks_sdk.fingerprint``). For each group, every affected cell (site × variant × suite) is
compared with itself: the first run in the window where it failed this way against the last run
before that where the suite passed. The facts of a run are its component versions (in normal
form) and its environment. A fact that *all* first-failing runs share, and that *none* of the
last passing runs had, is a change that came with the failure:

* the same fingerprint at two or more sites, with a component's version among those changes,
  points to that component;
* a fingerprint at one site, with an environment fact (scheduler, MPI, OS) among them, points
  to the facility;
* anything else is said to be unclear, with the facts found.

Only test rows of the last ``days`` days are read, newest first and at most ``MAX_ROWS``, and
only the ``MAX_GROUPS`` largest groups are attributed, so the cost is bounded by recent failures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from exaworks_sdk.versions import normalize_version

from .models import Run, Site, SuiteRun, TestResultRow, UTCDateTime
from .params import page_arg
from .schemas import FactChange, FailureGroup, FailuresOut

MAX_ROWS, MAX_GROUPS = 20_000, 50
DEFAULT_DAYS, MAX_DAYS = 14, 365
Fact = tuple[str, str]  # (kind, name): ("component", "flux-core") or ("environment", "mpi")


def facts(run: Any) -> dict[Fact, str | None]:
    out: dict[Fact, str | None] = {}
    for name, version in (run.components or {}).items():
        out[("component", name)] = normalize_version(str(version)) if version is not None else None
    for name, value in (run.environment or {}).items():
        if value is None or isinstance(value, str | int | float | bool):
            out[("environment", name)] = None if value is None else str(value)
    return out


# one statement, compiled once and run per cell
LAST_PASS = (select(SuiteRun.run_id)
             .where(SuiteRun.site_id == bindparam("site_id"), SuiteRun.variant == bindparam("variant"),
                    SuiteRun.suite == bindparam("suite"), SuiteRun.started_at < bindparam("before", type_=UTCDateTime),
                    SuiteRun.failed == 0, SuiteRun.error == 0, SuiteRun.passed > 0)
             .order_by(SuiteRun.started_at.desc()).limit(1))


# PostgreSQL: every cell in one round trip, the cells as arrays (one statement shape, compiled once)
LAST_PASSES_PG = text("""
SELECT w.n, (SELECT s.run_id FROM suite_runs s
             WHERE s.site_id = w.site_id AND s.variant = w.variant AND s.suite = w.suite AND s.started_at < w.before
               AND s.failed = 0 AND s.error = 0 AND s.passed > 0
             ORDER BY s.started_at DESC LIMIT 1)
FROM unnest(CAST(:site_ids AS integer[]), CAST(:variants AS text[]), CAST(:suites AS text[]),
            CAST(:befores AS timestamp[])) WITH ORDINALITY AS w(site_id, variant, suite, before, n)
""")


def _last_passes(db: Session, cells: list[tuple[int, str, str, datetime]]) -> dict[tuple[int, str, str, datetime], Run]:
    """For each (site, variant, suite, time): the newest run before that time in which the suite
    passed; each is a seek in ``ix_suite_runs_cell``. SQLite runs one cached statement per cell
    (no round trips in process); PostgreSQL answers them all in one statement."""
    conn = db.connection()
    found: dict[tuple[int, str, str, datetime], int] = {}
    if conn.dialect.name == "postgresql":
        befores = [c[3].astimezone(UTC).replace(tzinfo=None) for c in cells]  # stored as naive UTC
        rows = conn.execute(LAST_PASSES_PG, {"site_ids": [c[0] for c in cells], "variants": [c[1] for c in cells],
                                             "suites": [c[2] for c in cells], "befores": befores})
        found = {cells[n - 1]: run_pk for n, run_pk in rows if run_pk is not None}
    else:
        for cell in cells:
            site_id, variant, suite, before = cell
            run_pk = conn.execute(LAST_PASS, {"site_id": site_id, "variant": variant, "suite": suite,
                                              "before": before}).scalar()
            if run_pk is not None:
                found[cell] = run_pk
    runs = {r.id: r for r in db.scalars(select(Run).where(Run.id.in_(set(found.values()))))} if found else {}
    return {cell: runs[pk] for cell, pk in found.items() if pk in runs}


def _changes(first_fail: list[Run], last_pass: list[Run],
             known: dict[int, dict[Fact, str | None]] | None = None) -> list[FactChange]:
    """Facts every first-failing run shares and no last passing run had."""
    if not first_fail or not last_pass:
        return []
    known = {} if known is None else known
    for run in (*first_fail, *last_pass):
        if run.id not in known:
            known[run.id] = facts(run)
    failing = [known[r.id] for r in first_fail]
    passing = [known[r.id] for r in last_pass]
    shared = {f: v for f, v in failing[0].items() if all(other.get(f, "\0") == v for other in failing[1:])}
    out = []
    for (kind, name), value in sorted(shared.items()):
        before = [p.get((kind, name)) for p in passing]
        if all(b != value for b in before):
            out.append(FactChange(kind=kind, name=name, before=sorted({b or "none" for b in before}),
                                  after=value or "none"))
    return out


def explain(sites: list[str], changes: list[FactChange]) -> tuple[str, str]:
    components = [c for c in changes if c.kind == "component"]
    environment = [c for c in changes if c.kind == "environment"]
    where = ", ".join(sites)
    if len(sites) >= 2 and components:
        named = "; ".join(f"{c.name} {'/'.join(c.before)} → {c.after}" for c in components)
        return "component", (f"Points to {' and '.join(c.name for c in components)}: the same failure at "
                             f"{len(sites)} sites ({where}) right after {named}; the environments did not "
                             f"change the same way everywhere.")
    if len(sites) == 1 and environment:
        named = "; ".join(f"{c.name} {'/'.join(c.before)} → {c.after}" for c in environment)
        return "facility", (f"Points to the facility: only {where} fails this way, right after its "
                            f"environment changed ({named}); no component version changed with it."
                            if not components else
                            f"Points to the facility, most likely: only {where} fails this way, right after "
                            f"its environment changed ({named}); component versions changed too.")
    if components:
        named = "; ".join(f"{c.name} {'/'.join(c.before)} → {c.after}" for c in components)
        return "component", f"Points to {' and '.join(c.name for c in components)} ({named}), seen at {where} only."
    if not changes:
        return "unknown", ("No version or environment fact is shared by every failing run and absent from the "
                           "last passing runs (or no earlier pass is in the history).")
    named = "; ".join(f"{c.name} {'/'.join(c.before)} → {c.after}" for c in changes)
    return "unknown", f"Unclear: {named} changed, at {len(sites)} sites ({where})."


def failures(db: Session, days: int) -> FailuresOut:
    since = datetime.now(UTC) - timedelta(days=days)
    # the window's runs first (ix_runs_started), then each one's failed tests (ix_test_results_failing):
    # the old failed tests of a long history are never read
    recent = select(Run.id, Run.site_id, Run.variant, Run.started_at).where(Run.started_at >= since).subquery()
    rows = db.execute(
        select(TestResultRow.fingerprint, TestResultRow.suite, TestResultRow.test_id, TestResultRow.message,
               recent.c.id, recent.c.site_id, recent.c.variant, recent.c.started_at, Site.name)
        .select_from(recent).join(TestResultRow, TestResultRow.run_id == recent.c.id)
        .join(Site, Site.id == recent.c.site_id)
        .where(TestResultRow.fingerprint.is_not(None))
        .order_by(recent.c.started_at.desc(), TestResultRow.id.desc()).limit(MAX_ROWS)
    ).tuples()
    groups: dict[str, dict[str, Any]] = {}
    for fp, suite, test_id, message, run_pk, site_id, variant, started, site in rows:
        g = groups.setdefault(fp or "", {"message": message, "tests": set(), "sites": set(), "count": 0,
                                   "first": started, "last": started, "runs": [], "cells": {}})
        g["tests"].add(f"{suite}::{test_id}")
        g["sites"].add(site)
        g["count"] += 1
        g["first"], g["last"] = min(g["first"], started), max(g["last"], started)
        if run_pk not in g["runs"]:
            g["runs"].append(run_pk)
        g["cells"][(site_id, variant, suite)] = (run_pk, started)  # rows are newest first: ends at the first
    largest = sorted(groups.items(), key=lambda item: (-len(item[1]["sites"]), -item[1]["count"]))[:MAX_GROUPS]
    wanted = {run_pk for _, g in largest for run_pk, _ in g["cells"].values()}
    loaded = {r.id: r for r in db.scalars(select(Run).where(Run.id.in_(wanted)))} if wanted else {}
    cells = sorted({(site_id, variant, suite, started) for _, g in largest
                    for (site_id, variant, suite), (_, started) in g["cells"].items()})
    passes = _last_passes(db, cells)
    known: dict[int, dict[Fact, str | None]] = {}  # a run's facts, read once however many groups it is in
    out = []
    for fp, g in largest:
        first_fail = [loaded[run_pk] for run_pk, _ in g["cells"].values() if run_pk in loaded]
        last_pass = [passes[(site_id, variant, suite, started)]
                     for (site_id, variant, suite), (_, started) in g["cells"].items()
                     if (site_id, variant, suite, started) in passes]
        changes = _changes(first_fail, last_pass, known)
        sites = sorted(g["sites"])
        attribution, explanation = explain(sites, changes)
        out.append(FailureGroup(
            fingerprint=fp, message=(g["message"] or "")[:500], tests=sorted(g["tests"]), sites=sites,
            count=g["count"], first_seen=g["first"], last_seen=g["last"], runs=g["runs"][:20],
            changes=changes, attribution=attribution, explanation=explanation))
    return FailuresOut(generated_at=datetime.now(UTC), days=days, groups=out)


def days_arg() -> int:
    return page_arg("days", DEFAULT_DAYS, MAX_DAYS)
