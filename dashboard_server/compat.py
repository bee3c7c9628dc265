"""The compatibility matrix: for each suite, the version sets of the components it uses, where
each set ran, and the newest verdict per site and variant.

A version set is the tuple of the suite's required components' versions as the run's
``RunStart`` recorded them, compared in normal form (``exaworks_sdk.versions.normalize_version``:
``v0.81.0`` and ``0.81.0`` are one version). The manifest's pins (``pins.py``) mark the set each
install variant is pinned to. Only the last ``days`` days count, and what is read grows with the
version sets seen there, not with how many runs used them (``_rows``, ``latest_sets.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from flask import request
from sqlalchemy import Select, bindparam, select, true
from sqlalchemy.orm import Session

from exaworks_sdk import status as rule
from exaworks_sdk.status import COUNTERS, Shown
from exaworks_sdk.versions import normalize_version

from .db import among, plain_rows
from .exceptions import BadInput, NotFound
from .models import LatestSetRun, RawTime, Run, Site, SuiteRun, from_raw_time, raw_time
from .params import page_arg
from .pins import package_names, pins_by_variant
from .registry import SuiteInfo, registry
from .schemas import CompatOut, CompatSuite, SetsCut, SiteVerdict, VersionSet

MAX_SETS_PER_CELL = 20  # of one site and variant: a site that tests nightly builds runs a new set a night
DEFAULT_DAYS, MAX_DAYS = 90, 3650
FORMATS = ("pip", "spack")
Key = tuple[str | None, ...]


class RunFacts(NamedTuple):
    """What a verdict shows of its run, read once per run however many suites it ran."""

    run_id: str
    finished: bool
    site: str
    facility: str
    components: Any  # as stored


class Read(NamedTuple):
    rows: list[Any]  # suite runs, newest first: (suite, variant, started at (raw_time), run, *COUNTERS)
    runs: dict[int, RunFacts]  # of their runs, by run
    cut: dict[tuple[int, str], int]  # (site, variant) → how many sets it ran, where over MAX_SETS_PER_CELL


class Group(NamedTuple):
    """The runs of one site and variant with one set of stored components, within the window."""

    site_id: int
    variant: str
    key: str  # latest_set_runs.components_key
    last: RawTime  # its newest run's start
    components: Any  # as stored


def _pinned_suites(components: Any, variant: str, suites: Iterable[SuiteInfo]) -> set[str]:
    """The suites whose version set in these stored components is pinned for the variant, by
    ``pinned_in`` (the rule that marks the matrix's pinned sets)."""
    return {s.name for s in suites
            if variant in pinned_in({c: normalize_version(v) for c, v in _uploaded(components, s.requires).items()})}


def _newest_sets(groups: list[Group], suites: Iterable[SuiteInfo]) -> tuple[list[Group], dict[tuple[int, str], int]]:
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


@lru_cache(maxsize=2)
def _pointers(dialect: str) -> Select[Any]:
    """Each pointer of the window (``suites``, ``since``) with its suite run's counters, found by
    (run, suite): one seek each in the unique index. On PostgreSQL a LATERAL read per pointer
    says so: a join left to the planner hashes the whole of ``suite_runs`` once one site's run
    holds thousands of suites (``bench.flood``), as the run ids' statistics then promise many
    suite runs per pointer."""
    pointer = (LatestSetRun.site_id, LatestSetRun.variant, LatestSetRun.components_key, LatestSetRun.run_id,
               LatestSetRun.suite, raw_time(LatestSetRun.started_at))
    counters = select(SuiteRun.id, *(getattr(SuiteRun, c) for c in COUNTERS)).where(
        SuiteRun.run_id == LatestSetRun.run_id, SuiteRun.suite == LatestSetRun.suite)
    if dialect == "postgresql":
        each = counters.limit(1).lateral("counters")
        statement = select(*pointer, *each.c).select_from(LatestSetRun).join(each, true())
    else:
        statement = select(*pointer, *counters.selected_columns).join(SuiteRun, counters.whereclause)
    return statement.where(LatestSetRun.suite.in_(bindparam("suites", expanding=True)),
                           LatestSetRun.started_at >= bindparam("since"))


def _rows(db: Session, suites: Iterable[str], since: datetime) -> Read:
    """The newest suite run of each (suite, site, variant, stored components) in the window,
    newest first (``_suite`` then folds sets that differ only outside a suite's components, or
    in spelling), at most ``MAX_SETS_PER_CELL`` stored components per site and variant, and the
    facts of their runs (each read and decoded once, however many suites the run has).

    Read from ``latest_set_runs`` (``ix_latest_set_runs_suite_started``), which ingest keeps: one row
    per set and cell, whatever the number of runs that used it."""
    wanted = sorted(set(suites))
    conn = db.connection()  # Core rows, read by position: the ORM's and named access cost more than the reads
    pointers = plain_rows(conn.execute(_pointers(conn.dialect.name), {"suites": wanted, "since": since}))
    if not pointers:
        return Read([], {}, {})
    runs = {run_pk: RunFacts(*facts) for run_pk, *facts in conn.execute(
        select(Run.id, Run.run_id, Run.finished_at.is_not(None), Site.name, Site.facility, Run.components)
        .join(Site, Site.id == Run.site_id).where(among(Run.id, {p[3] for p in pointers}, conn.dialect.name)))}
    pointers = [p for p in pointers if p[3] in runs]  # PostgreSQL: a run deleted since the first read
    groups: dict[tuple[int, str, str], Group] = {}
    for site_id, variant, key, run_pk, _, started_at, *_ in pointers:
        group = groups.get((site_id, variant, key))
        if group is None or started_at > group.last:
            groups[(site_id, variant, key)] = Group(site_id, variant, key, started_at, runs[run_pk].components)
    kept, cut = _newest_sets(list(groups.values()), [s for s in registry().values() if s.name in wanted])
    shown = {(g.site_id, g.variant, g.key) for g in kept}
    pointers.sort(key=lambda p: (p[5], p[6]), reverse=True)  # newest first, by start and suite run
    rows = [(suite, variant, started_at, run_pk, *counters)
            for site_id, variant, key, run_pk, suite, started_at, _, *counters in pointers
            if (site_id, variant, key) in shown]
    return Read(rows, runs, cut)


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


@lru_cache(maxsize=1024)
def _status(counters: tuple[int, ...], finished: bool) -> Shown:
    """``in_run`` of a suite run's counters; a page reads the same few hundred combinations."""
    return rule.in_run(dict(zip(COUNTERS, counters, strict=True)), finished)


def _suite(info: SuiteInfo, rows: list[Any], runs: Mapping[int, RunFacts]) -> CompatSuite:
    sets: dict[Key, dict[tuple[str, str], SiteVerdict]] = {}
    for _, variant, started_at, run_pk, *counters in rows:
        # newest first: the first row of a (set, site, variant) is its verdict
        run_id, finished, site, facility, components = runs[run_pk]
        uploaded = _uploaded(components, info.requires)
        key = tuple(normalize_version(uploaded[c]) for c in info.requires)
        cell = sets.setdefault(key, {})
        if (site, variant) in cell:
            continue
        cell[(site, variant)] = SiteVerdict(site=site, facility=facility, variant=variant,
                                            status=_status(tuple(counters), finished), run=run_pk, run_id=run_id,
                                            started_at=from_raw_time(started_at), uploaded=uploaded)
    out = []
    for key, cell in sets.items():
        versions = dict(zip(info.requires, key, strict=True))
        verdicts = [cell[k] for k in sorted(cell)]  # by site and variant
        statuses = [v["status"] for v in verdicts]
        pip, spack = constraints(versions)
        # the database's own values: built without validation, as a matrix holds hundreds of verdicts
        out.append(VersionSet.model_construct(
            versions=versions, pinned_in=pinned_in(versions), sites=verdicts,
            known_good=any(s in rule.PROVEN for s in statuses) and not any(rule.is_failing(s) for s in statuses),
            last_run_at=max(v["started_at"] for v in verdicts), pip_constraints=pip, spack_constraints=spack))
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
        by_suite[row[0]].append(row)
    names = dict(db.execute(select(Site.id, Site.name).where(Site.id.in_({c[0] for c in read.cut}))).tuples().all()
                 ) if read.cut else {}
    return CompatOut(generated_at=datetime.now(UTC), days=days,
                     suites=[_suite(s, by_suite[s.name], read.runs) for s in chosen],
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
            sites = ", ".join(sorted({v["site"] for v in good.sites if v["status"] in rule.PROVEN}))
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
