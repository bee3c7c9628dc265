"""The failures page: failing tests grouped by fingerprint across sites, with an attribution.

Each failed or errored test row carries a fingerprint computed at ingest
(``exaworks_sdk.fingerprint``). For each group, every affected cell (site × variant × suite; of
one site, the ``MAX_CELLS_PER_SITE`` that failed this way most recently) is compared with
itself: the first run in the window where it failed this way against the last run before that
where the suite passed. The facts of a run are its component versions (in normal
form) and its environment. A fact that *all* first-failing runs share, and that *none* of the
last passing runs had, is a change that came with the failure:

* the same fingerprint at two or more sites, with a component's version among those changes,
  points to that component;
* a fingerprint at one site, with an environment fact (scheduler, MPI, OS) among them, points
  to the facility;
* anything else is said to be unclear, with the facts found.

Only test rows of the last ``days`` days are read, each site's newest first and at most
``MAX_ROWS_PER_SITE`` of each site, and only the ``MAX_GROUPS`` largest groups are attributed,
so the cost is bounded by recent failures, and a site that fails by the thousand (a broken
install, a hostile uploader) neither pushes the other sites' failures off the page nor makes
it slower than its own share; the page says whose failures were cut and from when.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
from sqlalchemy import ColumnElement, Select, bindparam, select, text, true
from sqlalchemy.orm import Session

from exaworks_sdk.versions import normalize_version

from .models import Run, Site, TestResultRow, stored_utc
from .params import page_arg
from .schemas import FactChange, FailureGroup, FailuresOut, SiteCut

MAX_ROWS_PER_SITE, MAX_GROUPS, MAX_TESTS, MAX_RUNS = 500, 50, 50, 20  # MAX_TESTS, MAX_RUNS: shown per group
MAX_CELLS_PER_SITE = 20  # of a group, compared for its attribution: the ones that failed this way last
DEFAULT_DAYS, MAX_DAYS = 14, 365
Fact = tuple[str, str]  # (kind, name): ("component", "flux-core") or ("environment", "mpi")


def facts(components: Any, environment: Any) -> dict[Fact, str | None]:
    """A run's facts from its stored ``components`` and ``environment``."""
    out: dict[Fact, str | None] = {}
    for name, version in (components or {}).items():
        out[("component", name)] = normalize_version(str(version)) if version is not None else None
    for name, value in (environment or {}).items():
        if value is None or isinstance(value, str | int | float | bool):
            out[("environment", name)] = None if value is None else str(value)
    return out


# SQLite: every cell in one statement, the cells as one JSON array of [site, variant, suite, time]
# (times in SQLAlchemy's SQLite text form, which ``SQLITE_TIME`` writes)
LAST_PASSES_SQLITE = text("""
SELECT j.key + 1, (SELECT s.run_id FROM suite_runs s
                   WHERE s.site_id = j.value ->> 0 AND s.variant = j.value ->> 1 AND s.suite = j.value ->> 2
                     AND s.started_at < j.value ->> 3 AND s.failed = 0 AND s.error = 0 AND s.passed > 0
                   ORDER BY s.started_at DESC LIMIT 1)
FROM json_each(:cells) AS j
""")
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


# PostgreSQL: every cell in one round trip, the cells as arrays (one statement shape, compiled once)
LAST_PASSES_PG = text("""
SELECT w.n, (SELECT s.run_id FROM suite_runs s
             WHERE s.site_id = w.site_id AND s.variant = w.variant AND s.suite = w.suite AND s.started_at < w.before
               AND s.failed = 0 AND s.error = 0 AND s.passed > 0
             ORDER BY s.started_at DESC LIMIT 1)
FROM unnest(CAST(:site_ids AS integer[]), CAST(:variants AS text[]), CAST(:suites AS text[]),
            CAST(:befores AS timestamp[])) WITH ORDINALITY AS w(site_id, variant, suite, before, n)
""")


def _last_passes(db: Session, cells: list[tuple[int, str, str, datetime]]) -> dict[tuple[int, str, str, datetime], int]:
    """For each (site, variant, suite, time): the newest run before that time in which the suite
    passed, all in one statement; each is a seek in ``ix_suite_runs_cell``."""
    if not cells:
        return {}
    conn = db.connection()
    befores = [stored_utc(c[3]) for c in cells]
    if conn.dialect.name == "postgresql":
        rows = conn.execute(LAST_PASSES_PG, {"site_ids": [c[0] for c in cells], "variants": [c[1] for c in cells],
                                             "suites": [c[2] for c in cells], "befores": befores})
    else:
        rows = conn.execute(LAST_PASSES_SQLITE, {"cells": orjson.dumps(
            [[c[0], c[1], c[2], t.strftime(SQLITE_TIME)] for c, t in zip(cells, befores, strict=True)]).decode()})
    return {cells[n - 1]: run_pk for n, run_pk in rows if run_pk is not None}


def _facts_of(db: Session, runs: set[int]) -> dict[int, dict[Fact, str | None]]:
    """Each run's facts, read in one statement (only the two columns they come from)."""
    if not runs:
        return {}
    return {pk: facts(components, environment) for pk, components, environment in db.connection().execute(
        select(Run.id, Run.components, Run.environment).where(Run.id.in_(sorted(runs))))}


def _changes(failing: list[dict[Fact, str | None]], passing: list[dict[Fact, str | None]]) -> list[FactChange]:
    """Facts every first-failing run shares and no last passing run had."""
    if not failing or not passing:
        return []
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


def _site_rows(site_id: ColumnElement[int], since: datetime) -> Select[Any]:
    """One site's fingerprinted failed tests of the window, newest first: its runs of the window
    (``ix_runs_site_started``; PostgreSQL may filter ``ix_runs_started`` while the window is
    small), each run's failed tests by ``ix_test_results_failing``."""
    return (select(TestResultRow.fingerprint, TestResultRow.suite, TestResultRow.test_id,
                   TestResultRow.id.label("row_pk"), Run.id.label("run_pk"), Run.variant, Run.started_at)
            .join(TestResultRow, TestResultRow.run_id == Run.id)
            .where(Run.site_id == site_id, Run.started_at >= since, TestResultRow.fingerprint.is_not(None))
            .order_by(Run.started_at.desc()).limit(MAX_ROWS_PER_SITE))  # by run only: LIMIT stops the read


class Failed(NamedTuple):
    """One fingerprinted failed test of the window, with where and when it ran."""

    fingerprint: str | None
    suite: str
    test_id: str
    row_pk: int
    run_pk: int
    variant: str
    started_at: datetime
    site_id: int
    site: str


def _window_rows(db: Session, since: datetime) -> list[Failed]:
    """Every site's newest ``MAX_ROWS_PER_SITE`` failed tests of the window, newest first.
    PostgreSQL reads them in one statement (a LATERAL read per site); SQLite, in process, in
    one statement per site."""
    rows: list[Failed] = []
    conn = db.connection()  # Core rows: the ORM's result processing costs more than these reads
    if conn.dialect.name == "postgresql":
        per_site = _site_rows(Site.id.expression, since).lateral("per_site")
        rows = [Failed._make(r) for r in conn.execute(
            select(*per_site.c, Site.id, Site.name).select_from(Site).join(per_site, true()))]
    else:
        statement = _site_rows(bindparam("site_id"), since)
        for site_id, name in conn.execute(select(Site.id, Site.name)).all():
            rows += [Failed._make((*r, site_id, name)) for r in conn.execute(statement, {"site_id": site_id})]
    rows.sort(key=lambda r: (r.started_at, r.row_pk), reverse=True)
    return rows


def _cut(rows: list[Failed]) -> list[SiteCut]:
    """The sites whose failed tests in the window reached ``MAX_ROWS_PER_SITE``, and from when
    their failures were read."""
    read = Counter(r.site for r in rows)
    full = {site for site, n in read.items() if n >= MAX_ROWS_PER_SITE}
    since: dict[str, datetime] = {}
    for r in rows:  # newest first: ends at each site's oldest
        if r.site in full:
            since[r.site] = r.started_at
    return [SiteCut(site=site, since=when, read=read[site]) for site, when in sorted(since.items())]


def failures(db: Session, days: int) -> FailuresOut:
    since = datetime.now(UTC) - timedelta(days=days)
    rows = _window_rows(db, since)
    groups: dict[str, dict[str, Any]] = {}
    for fp, suite, test_id, row_pk, run_pk, variant, started, site_id, site in rows:
        g = groups.get(fp or "")
        if g is None:
            g = groups[fp or ""] = {"newest": row_pk, "tests": set(), "sites": set(), "count": 0, "first": started,
                                    "last": started, "runs": {}, "cells": {}, "per_site": Counter()}
        g["tests"].add(f"{suite}::{test_id}")
        g["sites"].add(site)
        g["count"] += 1
        g["first"], g["last"] = min(g["first"], started), max(g["last"], started)
        g["runs"][run_pk] = None  # an ordered set: newest first
        cell = (site_id, variant, suite)
        if cell in g["cells"] or g["per_site"][site_id] < MAX_CELLS_PER_SITE:
            g["per_site"][site_id] += cell not in g["cells"]
            g["cells"][cell] = (run_pk, started)  # rows are newest first: ends at the first
    largest = sorted(groups.items(), key=lambda item: (-len(item[1]["sites"]), -item[1]["count"]))[:MAX_GROUPS]
    messages = dict(db.execute(select(TestResultRow.id, TestResultRow.message)
                               .where(TestResultRow.id.in_(sorted(g["newest"] for _, g in largest)))).tuples().all())
    cells = sorted({(site_id, variant, suite, started) for _, g in largest
                    for (site_id, variant, suite), (_, started) in g["cells"].items()})
    passes = _last_passes(db, cells)
    known = _facts_of(db, {run_pk for _, g in largest for run_pk, _ in g["cells"].values()} | set(passes.values()))
    out = []
    for fp, g in largest:
        first_fail = [known[run_pk] for run_pk, _ in g["cells"].values() if run_pk in known]
        last_pass = [known[passes[(site_id, variant, suite, started)]]
                     for (site_id, variant, suite), (_, started) in g["cells"].items()
                     if passes.get((site_id, variant, suite, started)) in known]
        changes = _changes(first_fail, last_pass)
        sites = sorted(g["sites"])
        attribution, explanation = explain(sites, changes)
        out.append(FailureGroup(
            fingerprint=fp, message=(messages.get(g["newest"]) or "")[:500], tests=sorted(g["tests"])[:MAX_TESTS],
            test_count=len(g["tests"]), sites=sites, count=g["count"], first_seen=g["first"], last_seen=g["last"],
            runs=list(g["runs"])[:MAX_RUNS],
            changes=changes, attribution=attribution, explanation=explanation))
    return FailuresOut(generated_at=datetime.now(UTC), days=days, groups=out, cut=_cut(rows))


def days_arg() -> int:
    return page_arg("days", DEFAULT_DAYS, MAX_DAYS)
