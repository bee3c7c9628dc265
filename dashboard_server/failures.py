"""The failures page: what is failing now, grouped by fingerprint across sites, with an attribution.

Each failed or errored test row carries a fingerprint computed at ingest
(``exaworks_sdk.fingerprint``). The page reads the failed tests of the newest run of every cell
(site × variant × suite) that is in a failure streak, as ``latest_results`` keeps it at ingest
(``streaks.refresh_streaks``), so its cost follows the cells, not history or a window of it; a
cell whose newest run is older than ``days`` is left out. For each group, every affected cell
(of one site, the ``MAX_CELLS_PER_SITE`` that ran last) is compared with itself: the first
failing run of its streak against the last run before it where the suite passed, both stored
with the streak. The facts of a run are its component versions (in normal form) and its
environment. A fact that *all* first-failing runs share, and that *none* of the last passing
runs had, is a change that came with the failure:

* the same fingerprint at two or more sites, with a component's version among those changes,
  points to that component;
* a fingerprint at one site, with an environment fact (scheduler, MPI, OS) among them, points
  to the facility;
* anything else is said to be unclear, with the facts found.

Of each site at most ``MAX_ROWS_PER_SITE`` failed tests are read, its most recent cells first,
so a site that fails by the thousand (a broken install, a hostile uploader) neither pushes the
other sites' failures off the page nor makes it slower than its own share; the page says whose
failures were cut and from when. The groups come a page at a time (``GROUPS_PER_PAGE``),
largest first, and only a page's groups are attributed. Failures that stopped are in the
digest's "fixed" list (``digest.py``); a test's whole history is on its own page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Integer, Select, Text, bindparam, cast, select, true
from sqlalchemy.orm import Session

from exaworks_sdk.versions import normalize_version

from .db import among, plain_rows
from .models import LatestResult, RawTime, Run, Site, TestResultRow, from_raw_time, raw_time
from .params import page_arg, page_count
from .schemas import FactChange, FailureGroup, FailuresOut, SiteCut

MAX_ROWS_PER_SITE, MAX_TESTS, MAX_RUNS = 100, 50, 20  # MAX_TESTS, MAX_RUNS: shown per group
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
    """One site's failed tests in the newest runs of its failing cells, the most recent cells
    first, as ``Failed`` rows: the failing cells from ``ix_latest_results_failing``, each newest
    run's failed tests from ``ix_test_results_failing`` alone.

    With ``lateral`` (PostgreSQL) the site's newest ``PER_SITE`` failing cells are chosen first
    and each one's failed tests are a read of at most ``PER_SITE``: before autovacuum has seen a
    flood, the planner may sort a site's failing cells instead of walking the index, and it then
    read every cell's failed tests before sorting. A site's cells are bounded by the server's
    ``MAX_SUITES_PER_SITE``; its failed tests are not."""
    where = (LatestResult.site_id == site_id, LatestResult.first_failing_run_id.is_not(None),
             LatestResult.started_at >= bindparam("since"))
    cells: Any = LatestResult.__table__
    if lateral:
        cells = (select(*LatestResult.__table__.c).where(*where).correlate(Site)
                 .order_by(LatestResult.started_at.desc()).limit(PER_SITE).lateral("cells"))
    of_cell = ((TestResultRow.run_id == cells.c.run_id) & (TestResultRow.suite == cells.c.suite)
               & TestResultRow.fingerprint.is_not(None))
    failed: Any = TestResultRow.__table__
    if lateral:
        failed = (select(TestResultRow.id, TestResultRow.fingerprint, TestResultRow.suite, TestResultRow.test_id)
                  .where(of_cell).limit(PER_SITE).lateral("failed"))
    statement = (select(raw_time(cells.c.started_at).label("started_at"), failed.c.id.label("row_pk"),
                        failed.c.fingerprint, failed.c.suite, failed.c.test_id, cells.c.run_id.label("run_pk"),
                        cells.c.variant, cells.c.site_id, raw_time(cells.c.failing_since).label("failing_since"),
                        cells.c.first_failing_run_id, cells.c.last_passing_run_id)
                 .select_from(cells).join(failed, true() if lateral else of_cell))
    if lateral:  # the cells come in order: a sort here would read every chosen cell's tests first
        return statement.limit(PER_SITE)
    return statement.where(*where).order_by(cells.c.started_at.desc()).limit(PER_SITE)  # LIMIT stops the walk


# One failed test of a failing cell's newest run: (started_at, row_pk, fingerprint, suite, test_id,
# run_pk, variant, site_id, failing_since, first_failing_run, last_passing_run). A plain tuple:
# time and row id first, so that sorting the tuples puts them in time order.
Failed = tuple[RawTime, int, str, str, str, int, str, int, RawTime, int, int | None]

# Built once: building a statement costs about as much as running it
_EACH_SITE = _site_rows(Site.id.expression, lateral=True).lateral("per_site")
FAILING_PG = select(*_EACH_SITE.c).select_from(Site).join(_EACH_SITE, true())
FAILING_OF_SITE = _site_rows(bindparam("site_id"), lateral=False)


def _failing_rows(db: Session, since: datetime, sites: Collection[int]) -> list[Failed]:
    """At most ``MAX_ROWS_PER_SITE`` failed tests of each of ``sites``, from the newest runs of
    its failing cells that started after ``since``, newest first. PostgreSQL reads every site's
    in one statement (a LATERAL read per site) and keeps those of ``sites`` (one may have been
    deleted or added since they were read); SQLite, in process, reads them in one statement per
    site."""
    conn = db.connection()
    params = {"since": since, "per_site": MAX_ROWS_PER_SITE}
    if conn.dialect.name == "postgresql":
        rows = [r for r in plain_rows(conn.execute(FAILING_PG, params)) if r[7] in sites]
    else:
        rows = [r for site_id in sites for r in plain_rows(conn.execute(FAILING_OF_SITE, {**params, "site_id": site_id}))]
    rows.sort(reverse=True)  # (time, row id) is unique: the rest of a tuple is never compared
    return rows


def _cut(rows: list[Failed], names: dict[int, str]) -> list[SiteCut]:
    """The sites whose failed tests reached ``MAX_ROWS_PER_SITE``, and the start of the oldest
    newest run read of each."""
    read = Counter(r[7] for r in rows)
    full = {site_id for site_id, n in read.items() if n >= MAX_ROWS_PER_SITE}
    since: dict[int, RawTime] = {}
    for r in rows:  # newest first: ends at each site's oldest
        if r[7] in full:
            since[r[7]] = r[0]
    return sorted((SiteCut(site=names[site_id], since=from_raw_time(when), read=read[site_id])
                   for site_id, when in since.items()), key=lambda c: c.site)


class _Group:
    """What the rows say of one fingerprint (rows arrive newest first)."""

    __slots__ = ("newest", "tests", "sites", "count", "first", "last", "runs", "cells", "per_site")

    def __init__(self, row_pk: int, started: RawTime, failing_since: RawTime) -> None:
        self.newest, self.first, self.last = row_pk, failing_since, started
        self.tests: set[tuple[str, str]] = set()
        self.sites: set[int] = set()
        self.count = 0
        self.runs: dict[int, None] = {}  # an ordered set: newest first
        self.cells: dict[tuple[int, str, str], tuple[int, int | None]] = {}  # → (first failing, last passing) run
        self.per_site: Counter[int] = Counter()


def _ranked(rows: list[Failed]) -> list[str]:
    """The fingerprints, most sites first, then most failed tests; counted without building a
    group, since only a page's groups are described (``_groups``)."""
    count = Counter(r[2] for r in rows)
    sites = Counter(fp for fp, _ in {(r[2], r[7]) for r in rows})
    return sorted(count, key=lambda fp: (-sites[fp], -count[fp], fp))


def _groups(rows: list[Failed], fingerprints: set[str]) -> dict[str, _Group]:
    """The groups of ``fingerprints`` from the rows."""
    groups: dict[str, _Group] = {}
    for started, row_pk, fp, suite, test_id, run_pk, variant, site_id, failing_since, first, last in rows:
        if fp not in fingerprints:
            continue
        g = groups.get(fp)
        if g is None:
            g = groups[fp] = _Group(row_pk, started, failing_since)
        g.tests.add((suite, test_id))
        g.sites.add(site_id)
        g.count += 1
        g.first = min(g.first, failing_since)
        g.runs[run_pk] = None
        cell = (site_id, variant, suite)
        if cell not in g.cells and g.per_site[site_id] < MAX_CELLS_PER_SITE:
            g.per_site[site_id] += 1
            g.cells[cell] = (first, last)
    return groups


def failures(db: Session, days: int, page: int = 1, per_page: int = GROUPS_PER_PAGE) -> FailuresOut:
    """The groups of what is failing now, most sites first, ``per_page`` of them from page
    ``page``: only those are attributed and described, so a page costs what it shows."""
    since = datetime.now(UTC) - timedelta(days=days)
    names = dict(db.connection().execute(select(Site.id, Site.name)).tuples().all())
    rows = _failing_rows(db, since, names.keys())
    ranked = _ranked(rows)
    fingerprints = ranked[(page - 1) * per_page:page * per_page]
    of_page = _groups(rows, set(fingerprints))
    shown = [(fp, of_page[fp]) for fp in fingerprints]
    messages = dict(db.execute(select(TestResultRow.id, TestResultRow.message)
                               .where(TestResultRow.id.in_(sorted(g.newest for _, g in shown)))).tuples().all())
    known = _facts_of(db, {run_pk for _, g in shown for pair in g.cells.values() for run_pk in pair if run_pk})
    out = []
    for fp, g in shown:
        first_fail = [known[first] for first, _ in g.cells.values() if first in known]
        last_pass = [known[last] for _, last in g.cells.values() if last in known]
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
