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
``MAX_ROWS_PER_SITE`` of each site, so the cost is bounded by recent failures, and a site that
fails by the thousand (a broken install, a hostile uploader) neither pushes the other sites'
failures off the page nor makes it slower than its own share; the page says whose failures
were cut and from when. The groups come a page at a time (``GROUPS_PER_PAGE``), largest first,
and only a page's groups are attributed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Integer, Select, Text, bindparam, cast, select, text, true
from sqlalchemy.orm import Session

from exaworks_sdk.versions import normalize_version

from .db import among, plain_rows
from .models import RawTime, Run, Site, TestResultRow, from_raw_time, raw_time
from .params import page_arg, page_count
from .schemas import FactChange, FailureGroup, FailuresOut, SiteCut

MAX_ROWS_PER_SITE, MAX_TESTS, MAX_RUNS = 500, 50, 20  # MAX_TESTS, MAX_RUNS: shown per group
GROUPS_PER_PAGE, MAX_PER_PAGE = 20, 100
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
# (times as stored: SQLAlchemy's SQLite text form, ``models.SQLITE_TIME``)
LAST_PASSES_SQLITE = text("""
SELECT j.key + 1, (SELECT s.run_id FROM suite_runs s
                   WHERE s.site_id = j.value ->> 0 AND s.variant = j.value ->> 1 AND s.suite = j.value ->> 2
                     AND s.started_at < j.value ->> 3 AND s.failed = 0 AND s.error = 0 AND s.passed > 0
                   ORDER BY s.started_at DESC LIMIT 1)
FROM json_each(:cells) AS j
""")


# PostgreSQL: every cell in one round trip, the cells as arrays (one statement shape, compiled once)
LAST_PASSES_PG = text("""
SELECT w.n, (SELECT s.run_id FROM suite_runs s
             WHERE s.site_id = w.site_id AND s.variant = w.variant AND s.suite = w.suite AND s.started_at < w.before
               AND s.failed = 0 AND s.error = 0 AND s.passed > 0
             ORDER BY s.started_at DESC LIMIT 1)
FROM unnest(CAST(:site_ids AS integer[]), CAST(:variants AS text[]), CAST(:suites AS text[]),
            CAST(:befores AS timestamp[])) WITH ORDINALITY AS w(site_id, variant, suite, before, n)
""")


Cell = tuple[int, str, str, RawTime]  # (site, variant, suite, a time as ``raw_time`` reads it)


def _last_passes(db: Session, cells: list[Cell]) -> dict[Cell, int]:
    """For each (site, variant, suite, time): the newest run before that time in which the suite
    passed, all in one statement; each is a seek in ``ix_suite_runs_cell``. The times stay in
    the form the window read them (``models.to_raw_time``): converting them both ways cost more
    than the read."""
    if not cells:
        return {}
    conn = db.connection()
    if conn.dialect.name == "postgresql":
        rows = plain_rows(conn.execute(LAST_PASSES_PG, {
            "site_ids": [c[0] for c in cells], "variants": [c[1] for c in cells], "suites": [c[2] for c in cells],
            "befores": [c[3] for c in cells]}))
    else:
        rows = plain_rows(conn.execute(LAST_PASSES_SQLITE, {"cells": orjson.dumps(cells).decode()}))
    return {cells[n - 1]: run_pk for n, run_pk in rows if run_pk is not None}


def _facts_of(db: Session, runs: set[int]) -> dict[int, dict[Fact, str | None]]:
    """Each run's facts, read in one statement as the stored JSON text: runs of one site and set
    store the same text, so each distinct text is decoded once (``_facts_of_text``)."""
    if not runs:
        return {}
    conn = db.connection()
    return {pk: _facts_of_text(components, environment) for pk, components, environment in plain_rows(
        conn.execute(select(Run.id, cast(Run.components, Text), cast(Run.environment, Text))
                     .where(among(Run.id, runs, conn.dialect.name))))}


@lru_cache(maxsize=4096)
def _facts_of_text(components: str | None, environment: str | None) -> dict[Fact, str | None]:
    """``facts`` of the stored JSON texts; shared between calls, so never changed by a caller."""
    return facts(orjson.loads(components) if components else None, orjson.loads(environment) if environment else None)


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


PER_SITE = bindparam("per_site", type_=Integer)  # ``MAX_ROWS_PER_SITE``, passed at each read


def _site_rows(site_id: ColumnElement[int], lateral: bool) -> Select[Any]:
    """One site's fingerprinted failed tests of the window, newest first, as ``Failed`` rows:
    its runs of the window (``ix_runs_site_started``), each run's failed tests from
    ``ix_test_results_failing`` alone. With ``lateral`` (PostgreSQL) each run's failed tests are
    a read of at most ``PER_SITE`` too: before autovacuum has seen a flood, the planner may sort
    a site's rows instead of reading them in run order, and one run of 10,000 failed tests was
    then read whole to keep 500."""
    of_run = (TestResultRow.run_id == Run.id) & TestResultRow.fingerprint.is_not(None)
    failed: Any = TestResultRow.__table__
    if lateral:
        failed = (select(TestResultRow.id, TestResultRow.fingerprint, TestResultRow.suite, TestResultRow.test_id)
                  .where(of_run).limit(PER_SITE).lateral("failed"))
    return (select(raw_time(Run.started_at).label("started_at"), failed.c.id.label("row_pk"), failed.c.fingerprint,
                   failed.c.suite, failed.c.test_id, Run.id.label("run_pk"), Run.variant, Run.site_id)
            .select_from(Run).join(failed, true() if lateral else of_run)
            .where(Run.site_id == site_id, Run.started_at >= bindparam("since"))
            .order_by(Run.started_at.desc())  # by run only: LIMIT stops the read
            .limit(PER_SITE))


# One fingerprinted failed test of the window (the window reads only rows with a fingerprint): (started_at,
# row_pk, fingerprint, suite, test_id, run_pk, variant, site_id). A plain tuple, as a page reads a thousand:
# time and row id first, so that sorting the tuples puts them in time order.
Failed = tuple[RawTime, int, str, str, str, int, str, int]

# Built once: building a statement costs about as much as running it on a small window
_EACH_SITE = _site_rows(Site.id.expression, lateral=True).lateral("per_site")
WINDOW_PG = select(*_EACH_SITE.c).select_from(Site).join(_EACH_SITE, true())
WINDOW_OF_SITE = _site_rows(bindparam("site_id"), lateral=False)


def _window_rows(db: Session, since: datetime, sites: Collection[int]) -> list[Failed]:
    """The newest ``MAX_ROWS_PER_SITE`` failed tests of the window of each of ``sites``, newest
    first. PostgreSQL reads every site's in one statement (a LATERAL read per site) and keeps
    those of ``sites`` (one may have been deleted or added since they were read); SQLite, in
    process, reads them in one statement per site."""
    conn = db.connection()
    params = {"since": since, "per_site": MAX_ROWS_PER_SITE}
    if conn.dialect.name == "postgresql":
        rows = [r for r in plain_rows(conn.execute(WINDOW_PG, params)) if r[7] in sites]
    else:
        rows = [r for site_id in sites for r in plain_rows(conn.execute(WINDOW_OF_SITE, {**params, "site_id": site_id}))]
    rows.sort(reverse=True)  # (time, row id) is unique: the rest of a tuple is never compared
    return rows


def _cut(rows: list[Failed], names: dict[int, str]) -> list[SiteCut]:
    """The sites whose failed tests in the window reached ``MAX_ROWS_PER_SITE``, and from when
    their failures were read."""
    read = Counter(r[7] for r in rows)
    full = {site_id for site_id, n in read.items() if n >= MAX_ROWS_PER_SITE}
    since: dict[int, RawTime] = {}
    for r in rows:  # newest first: ends at each site's oldest
        if r[7] in full:
            since[r[7]] = r[0]
    return sorted((SiteCut(site=names[site_id], since=from_raw_time(when), read=read[site_id])
                   for site_id, when in since.items()), key=lambda c: c.site)


class _Group:
    """What the window's rows say of one fingerprint (rows arrive newest first)."""

    __slots__ = ("newest", "tests", "sites", "count", "first", "last", "runs", "cells", "per_site")

    def __init__(self, row_pk: int, started: RawTime) -> None:
        self.newest, self.first, self.last = row_pk, started, started
        self.tests: set[tuple[str, str]] = set()
        self.sites: set[int] = set()
        self.count = 0
        self.runs: dict[int, None] = {}  # an ordered set: newest first
        self.cells: dict[tuple[int, str, str], tuple[int, RawTime]] = {}  # → its first failing run here
        self.per_site: Counter[int] = Counter()


def _ranked(rows: list[Failed]) -> list[str]:
    """The window's fingerprints, most sites first, then most failed tests; counted without
    building a group, since only a page's groups are described (``_groups``)."""
    count = Counter(r[2] for r in rows)
    sites = Counter(fp for fp, _ in {(r[2], r[7]) for r in rows})
    return sorted(count, key=lambda fp: (-sites[fp], -count[fp], fp))


def _groups(rows: list[Failed], fingerprints: set[str]) -> dict[str, _Group]:
    """The groups of ``fingerprints`` from the window's rows."""
    groups: dict[str, _Group] = {}
    for started, row_pk, fp, suite, test_id, run_pk, variant, site_id in rows:
        if fp not in fingerprints:
            continue
        g = groups.get(fp)
        if g is None:
            g = groups[fp] = _Group(row_pk, started)
        g.tests.add((suite, test_id))
        g.sites.add(site_id)
        g.count += 1
        g.first = started  # newest first: ends at the oldest
        g.runs[run_pk] = None
        cell = (site_id, variant, suite)
        if cell in g.cells:
            g.cells[cell] = (run_pk, started)
        elif g.per_site[site_id] < MAX_CELLS_PER_SITE:
            g.per_site[site_id] += 1
            g.cells[cell] = (run_pk, started)
    return groups


def failures(db: Session, days: int, page: int = 1, per_page: int = GROUPS_PER_PAGE) -> FailuresOut:
    """The groups of the window, most sites first, ``per_page`` of them from page ``page``: only
    those are attributed and described, so a page costs what it shows."""
    since = datetime.now(UTC) - timedelta(days=days)
    names = dict(db.connection().execute(select(Site.id, Site.name)).tuples().all())
    rows = _window_rows(db, since, names.keys())
    ranked = _ranked(rows)
    fingerprints = ranked[(page - 1) * per_page:page * per_page]
    of_page = _groups(rows, set(fingerprints))
    shown = [(fp, of_page[fp]) for fp in fingerprints]
    messages = dict(db.execute(select(TestResultRow.id, TestResultRow.message)
                               .where(TestResultRow.id.in_(sorted(g.newest for _, g in shown)))).tuples().all())
    # each cell of a group, with the time its first failing run of the window started
    cells = {fp: [((site_id, variant, suite, started), run_pk)
                  for (site_id, variant, suite), (run_pk, started) in g.cells.items()] for fp, g in shown}
    passes = _last_passes(db, sorted({cell for of_group in cells.values() for cell, _ in of_group}))
    known = _facts_of(db, {run_pk for of_group in cells.values() for _, run_pk in of_group} | set(passes.values()))
    out = []
    for fp, g in shown:
        first_fail = [known[run_pk] for _, run_pk in cells[fp] if run_pk in known]
        last_pass = [known[passes[cell]] for cell, _ in cells[fp] if passes.get(cell) in known]
        changes = _changes(first_fail, last_pass)
        sites = sorted(names[site_id] for site_id in g.sites)
        attribution, explanation = explain(sites, changes)
        out.append(FailureGroup(
            fingerprint=fp, message=(messages.get(g.newest) or "")[:500],
            tests=sorted(f"{suite}::{test}" for suite, test in g.tests)[:MAX_TESTS],
            test_count=len(g.tests), sites=sites, count=g.count, first_seen=from_raw_time(g.first),
            last_seen=from_raw_time(g.last), runs=list(g.runs)[:MAX_RUNS], changes=changes, attribution=attribution,
            explanation=explanation))
    return FailuresOut(generated_at=datetime.now(UTC), days=days, page=page, per_page=per_page,
                       total=len(ranked), pages=page_count(len(ranked), per_page), groups=out, cut=_cut(rows, names))


def args() -> tuple[int, int, int]:
    """``days``, ``page`` and ``per_page`` from the query string, shared by the page and the JSON twin."""
    return (page_arg("days", DEFAULT_DAYS, MAX_DAYS), page_arg(), page_arg("per_page", GROUPS_PER_PAGE, MAX_PER_PAGE))
