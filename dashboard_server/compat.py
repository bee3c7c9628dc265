"""The compatibility matrix: for each suite, the version sets of the components it uses, where
each set ran, and the newest verdict per site and variant.

A version set is the tuple of the suite's required components' versions as the run's
``RunStart`` recorded them, compared in normal form (``exaworks_sdk.versions.normalize_version``:
``v0.81.0`` and ``0.81.0`` are one version). The manifest's pins (``pins.py``) mark the set each
install variant is pinned to. Only the last ``days`` days count, and what is read grows with the
version sets seen there, not with how many runs used them (``_rows``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from flask import request
from sqlalchemy import Text, bindparam, cast, func, select, text, type_coerce
from sqlalchemy.orm import Session, aliased

from exaworks_sdk import status as rule
from exaworks_sdk.status import COUNTERS
from exaworks_sdk.versions import normalize_version

from .exceptions import BadInput, NotFound
from .models import LatestResult, Run, Site, SuiteRun, UTCDateTime, stored_utc
from .params import page_arg
from .pins import package_names, pins_by_variant
from .registry import SuiteInfo, registry
from .schemas import CompatOut, CompatSuite, SetsCut, SiteVerdict, VersionSet

MAX_SETS_PER_CELL = 20  # of one site and variant: a site that tests nightly builds runs a new set a night
DEFAULT_DAYS, MAX_DAYS = 90, 3650
FORMATS = ("pip", "spack")
Key = tuple[str | None, ...]


# the newest suite run of (site, variant, suite) with these stored components within [lo, hi]:
# a seek backwards in ix_suite_runs_cell; compiled once, run per pair on SQLite (in process)
NEWEST_WITH = (
    select(SuiteRun.id).join(Run, Run.id == SuiteRun.run_id)
    .where(SuiteRun.site_id == bindparam("site_id"), SuiteRun.variant == bindparam("variant"),
           SuiteRun.suite == bindparam("suite"), SuiteRun.started_at >= bindparam("lo", type_=UTCDateTime),
           SuiteRun.started_at <= bindparam("hi", type_=UTCDateTime),
           type_coerce(Run.components, Text) == bindparam("components", type_=Text))
    .order_by(SuiteRun.started_at.desc(), SuiteRun.id.desc()).limit(1)
)
# PostgreSQL: every pair in one round trip, the pairs as arrays (one statement shape)
NEWEST_WITH_PG = text("""
SELECT (SELECT s.id FROM suite_runs s JOIN runs r ON r.id = s.run_id
        WHERE s.site_id = w.site_id AND s.variant = w.variant AND s.suite = w.suite
          AND s.started_at >= w.lo AND s.started_at <= w.hi AND CAST(r.components AS TEXT) = w.components
        ORDER BY s.started_at DESC, s.id DESC LIMIT 1)
FROM unnest(CAST(:site_ids AS integer[]), CAST(:variants AS text[]), CAST(:suites AS text[]),
            CAST(:components AS text[]), CAST(:los AS timestamp[]), CAST(:his AS timestamp[]))
     AS w(site_id, variant, suite, components, lo, hi)
""")


def _newest_with(db: Session, pairs: list[tuple[int, str, str, str, datetime, datetime]]) -> set[int]:
    if not pairs:
        return set()
    conn = db.connection()
    if conn.dialect.name == "postgresql":
        found = conn.execute(NEWEST_WITH_PG, {
            "site_ids": [p[0] for p in pairs], "variants": [p[1] for p in pairs], "suites": [p[2] for p in pairs],
            "components": [p[3] for p in pairs], "los": [stored_utc(p[4]) for p in pairs],
            "his": [stored_utc(p[5]) for p in pairs]}).scalars()
        return {n for n in found if n is not None}
    out = set()
    for site_id, variant, suite, components, lo, hi in pairs:
        n = conn.execute(NEWEST_WITH, {"site_id": site_id, "variant": variant, "suite": suite,
                                       "components": components, "lo": lo, "hi": hi}).scalar()
        if n is not None:
            out.add(n)
    return out


def _as_text(components: Any, postgres: bool) -> Any:
    """The stored components as their JSON text: PostgreSQL's ``json`` needs a cast to compare;
    SQLite stores the text itself, and a ``CAST`` there costs a third of grouping a window's runs."""
    return cast(components, Text) if postgres else type_coerce(components, Text)


class Read(NamedTuple):
    rows: list[Any]  # suite runs, newest first
    components: dict[int, Any]  # the stored components of their runs, by run
    cut: dict[tuple[int, str], int]  # (site, variant) → how many sets it ran, where over MAX_SETS_PER_CELL


def _pinned_suites(components: str, variant: str, suites: Iterable[SuiteInfo]) -> set[str]:
    """The suites whose version set in these stored components is pinned for the variant, by
    ``pinned_in`` (the rule that marks the matrix's pinned sets)."""
    stored = json.loads(components or "null")
    return {s.name for s in suites
            if variant in pinned_in({c: normalize_version(v) for c, v in _uploaded(stored, s.requires).items()})}


def _newest_sets(groups: list[Any], suites: Iterable[SuiteInfo]) -> tuple[list[Any], dict[tuple[int, str], int]]:
    """Each (site, variant)'s newest ``MAX_SETS_PER_CELL`` groups (by their last run), and how
    many groups the (site, variant)s that had more ran: one site that runs a new set every night
    neither crowds the other sites' verdicts out nor makes the page grow with its runs. Beyond
    the limit the newest group that is pinned for a suite is kept too, one per suite at most:
    the pinned set is the one ``sdk release check`` looks for, however many nightly sets came after."""
    newest_first = sorted(groups, key=lambda g: g.last, reverse=True)
    counted = Counter((g.site_id, g.variant) for g in newest_first)
    over = {cell for cell, n in counted.items() if n > MAX_SETS_PER_CELL}
    place: Counter[tuple[int, str]] = Counter()
    pinned: dict[tuple[int, str], set[str]] = {cell: set() for cell in over}
    kept = []
    for group in newest_first:
        cell = (group.site_id, group.variant)
        place[cell] += 1
        new = _pinned_suites(group.components, group.variant, suites) - pinned[cell] if cell in over else set()
        if place[cell] <= MAX_SETS_PER_CELL or new:
            kept.append(group)
        if new:
            pinned[cell] |= new
    return kept, {cell: counted[cell] for cell in over}


def _rows(db: Session, suites: Iterable[str], since: datetime) -> Read:
    """The newest suite run of each (suite, site, variant, stored components) in the window,
    newest first (``_suite`` then folds sets that differ only outside a suite's components, or
    in spelling), at most ``MAX_SETS_PER_CELL`` stored components per site and variant, and the
    stored components of their runs (each decoded once, however many suites the run has).

    Read without visiting every suite run of the window: (1) the window's runs grouped by site,
    variant and stored ``components`` (``ix_runs_started``; a handful of groups per site and
    variant, one per version change), with each group's newest run and time span; (2) the suite
    runs of those newest runs; (3) for a suite its site and variant ran (``latest_results``) but
    the group's newest run did not, one seek backwards in ``ix_suite_runs_cell`` from the end of
    the group's span to the newest run of that suite with those components."""
    postgres = db.get_bind().dialect.name == "postgresql"
    stored = _as_text(Run.components, postgres)
    # grouped by components first: grouping by site first would walk ix_runs_site_started (all of history)
    spans = (select(stored.label("components"), Run.variant, Run.site_id, func.min(Run.started_at).label("first"),
                    func.max(Run.started_at).label("last"))
             .where(Run.started_at >= since).group_by(stored, Run.variant, Run.site_id).subquery())
    newest_run = aliased(Run)
    heads = (
        select(newest_run.id, spans.c.site_id, spans.c.variant, spans.c.components, spans.c.first, spans.c.last)
        .join(newest_run, (newest_run.site_id == spans.c.site_id) & (newest_run.started_at == spans.c.last)
              & (newest_run.variant == spans.c.variant) & (_as_text(newest_run.components, postgres) == spans.c.components))
    )
    if postgres:
        # PostgreSQL guesses thousands of groups and hashes the runs: without this, all of them;
        # SQLite seeks (site, time) in ix_runs_site_started, and would trade that for this range
        heads = heads.where(newest_run.started_at >= since)
    wanted = set(suites)
    groups, cut = _newest_sets(list(db.execute(heads)), [s for s in registry().values() if s.name in wanted])
    if not groups:
        return Read([], {}, cut)
    found: set[int] = set()
    covered: set[tuple[int, str]] = set()  # (newest run, suite)
    for suite_run, run_pk, suite in db.execute(
            select(SuiteRun.id, SuiteRun.run_id, SuiteRun.suite)
            .where(SuiteRun.run_id.in_([g[0] for g in groups]), SuiteRun.suite.in_(wanted))).tuples():
        found.add(suite_run)
        covered.add((run_pk, suite))
    ran: dict[tuple[int, str], list[str]] = {}
    for site_id, variant, suite in db.execute(select(LatestResult.site_id, LatestResult.variant, LatestResult.suite)
                                              .where(LatestResult.suite.in_(sorted(wanted)))):  # not a site's own suites
        ran.setdefault((site_id, variant), []).append(suite)
    missing = [(site_id, variant, suite, components, first, last)
               for run_pk, site_id, variant, components, first, last in groups
               for suite in ran.get((site_id, variant), []) if (run_pk, suite) not in covered]
    found.update(_newest_with(db, missing))
    if not found:
        return Read([], {}, cut)
    rows = list(db.execute(
        select(SuiteRun.suite, SuiteRun.variant, SuiteRun.started_at, Run.id, Run.run_id,
               Run.finished_at.is_not(None), Site.name, Site.facility, *(getattr(SuiteRun, c) for c in COUNTERS))
        .join(Run, Run.id == SuiteRun.run_id).join(Site, Site.id == SuiteRun.site_id)
        .where(SuiteRun.id.in_(found), SuiteRun.started_at >= since)
        .order_by(SuiteRun.started_at.desc(), SuiteRun.id.desc())
    ).tuples())
    components = dict(db.execute(select(Run.id, Run.components).where(Run.id.in_({r.id for r in rows}))).tuples().all())
    return Read(rows, components, cut)


def _uploaded(components: Any, names: tuple[str, ...]) -> dict[str, str | None]:
    found = components if isinstance(components, dict) else {}
    return {n: (str(found[n]) if found.get(n) not in (None, "") else None) for n in names}


def pinned_in(versions: dict[str, str | None]) -> list[str]:
    """The install variants whose pins, for every component of the set that the variant pins,
    are exactly these versions (a component the variant does not pin, such as MPI, is free)."""
    out = []
    for variant, pins in pins_by_variant().items():
        relevant = [c for c in versions if c in pins]
        if relevant and all(versions[c] == pins[c].normalized for c in relevant):
            out.append(variant)
    return out


def constraints(versions: Mapping[str, str | None]) -> tuple[list[str], list[str]]:
    """The set as pip constraints lines and Spack ``packages.yaml`` requirement lines."""
    names = package_names()
    pip, spack = [], []
    for component, version in versions.items():
        if version is None:
            continue
        pip_name, spack_name = names.get(component, ("", ""))
        if pip_name:
            pip.append(f"{pip_name}=={version}")
        if spack_name:
            spack.append(f'  {spack_name}:\n    require: ["@={version}"]')
    return pip, spack


def _suite(info: SuiteInfo, rows: list[Any], stored: Mapping[int, Any]) -> CompatSuite:
    sets: dict[Key, dict[tuple[str, str], SiteVerdict]] = {}
    for row in rows:  # newest first: the first row of a (set, site, variant) is its verdict
        uploaded = _uploaded(stored.get(row.id), info.requires)
        key = tuple(normalize_version(uploaded[c]) for c in info.requires)
        cell = sets.setdefault(key, {})
        if (row.name, row.variant) in cell:
            continue
        counts = dict(zip(COUNTERS, row[-len(COUNTERS):], strict=True))
        cell[(row.name, row.variant)] = SiteVerdict(
            site=row.name, facility=row.facility, variant=row.variant, status=rule.in_run(counts, row[5]),
            run=row.id, run_id=row.run_id, started_at=row.started_at, uploaded=uploaded)
    out = []
    for key, cell in sets.items():
        versions = dict(zip(info.requires, key, strict=True))
        verdicts = sorted(cell.values(), key=lambda v: (v.site, v.variant))
        pip, spack = constraints(versions)
        out.append(VersionSet(
            versions=versions, pinned_in=pinned_in(versions), sites=verdicts,
            known_good=any(v.status in rule.PROVEN for v in verdicts) and not any(rule.is_failing(v.status) for v in verdicts),
            last_run_at=max(v.started_at for v in verdicts), pip_constraints=pip, spack_constraints=spack))
    out.sort(key=lambda s: s.last_run_at, reverse=True)
    return CompatSuite(suite=info.name, level=info.level, pair=info.pair, components=list(info.requires), sets=out)


def matrix(db: Session, days: int, suite: str | None = None) -> CompatOut:
    """The matrix of every registry suite (or one), integration pairs first."""
    known = registry()
    chosen = [known[suite]] if suite in known else [] if suite else list(known.values())
    chosen.sort(key=lambda s: (s.level != "L1", not s.pair))  # stable: registry order within
    since = datetime.now(UTC) - timedelta(days=days)
    by_suite: dict[str, list[Any]] = {s.name: [] for s in chosen}
    read = _rows(db, by_suite, since) if chosen else Read([], {}, {})
    for row in read.rows:
        by_suite[row.suite].append(row)
    names = dict(db.execute(select(Site.id, Site.name).where(Site.id.in_({c[0] for c in read.cut}))).tuples().all()
                 ) if read.cut else {}
    return CompatOut(generated_at=datetime.now(UTC), days=days,
                     suites=[_suite(s, by_suite[s.name], read.components) for s in chosen],
                     cut=[SetsCut(site=names[site_id], variant=variant, sets=n, shown=MAX_SETS_PER_CELL)
                          for (site_id, variant), n in sorted(read.cut.items(), key=lambda c: (names[c[0][0]], c[0][1]))])


def known_good_text(out: CompatOut, form: str) -> str:
    """The newest known-good set of each suite, as a pip constraints file (``form="pip"``) or a
    Spack ``packages.yaml``. Suites are read in the matrix's order (integration pairs first); a
    component an earlier suite already proved keeps that suite's version."""
    lines: list[str] = []
    taken: set[str] = set()
    for suite in out.suites:
        good = next((s for s in suite.sets if s.known_good), None)
        if good is None:
            continue
        fresh = {c: v for c, v in good.versions.items() if c not in taken and v is not None}
        pip, spack = constraints(fresh)
        chosen = pip if form == "pip" else spack
        if chosen:
            sites = ", ".join(sorted({v.site for v in good.sites if v.status in rule.PROVEN}))
            lines += [f"# {suite.suite}: passed at {sites}", *chosen]
            taken |= set(fresh)
    if form == "pip":
        return "\n".join(["# pip constraints: known-good versions from the ExaWorks SDK dashboard", *lines]) + "\n"
    indented = [f"  {line}" if line.startswith("#") else line for line in lines]
    return "\n".join(["# Spack packages.yaml: known-good versions from the ExaWorks SDK dashboard",
                      "packages:", *indented]) + "\n"


def args() -> tuple[int, str | None]:
    """``days`` and ``suite`` from the query string, shared by the page and the JSON twin."""
    days = page_arg("days", DEFAULT_DAYS, MAX_DAYS)
    suite = request.args.get("suite")
    if suite == "":
        raise BadInput("query parameter suite, when given, names a suite", code="invalid_field")
    if suite is not None and suite not in registry():
        raise NotFound(f"no suite {suite!r} in the suite registry")
    return days, suite


def export_format() -> str:
    form = request.args.get("format", "pip")
    if form not in FORMATS:
        raise BadInput(f"query parameter format must be one of {', '.join(FORMATS)}", code="invalid_field")
    return form
