"""The compatibility matrix: for each suite, the version sets of the components it uses, where
each set ran, and the newest verdict per site and variant.

A version set is the tuple of the suite's required components' versions as the run's
``RunStart`` recorded them, compared in normal form (``exaworks_sdk.versions.normalize_version``:
``v0.81.0`` and ``0.81.0`` are one version). The manifest's pins (``pins.py``) mark the set each
install variant is pinned to. Only ``suite_runs`` rows of the last ``days`` days are read, newest
first and at most ``MAX_ROWS``, so the cost is bounded by recent activity, not by stored history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import request
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from exaworks_sdk import status as rule
from exaworks_sdk.status import COUNTERS
from exaworks_sdk.versions import normalize_version

from .exceptions import BadInput, NotFound
from .models import Run, Site, SuiteRun
from .params import page_arg
from .pins import package_names, pins_by_variant
from .registry import SuiteInfo, registry
from .schemas import CompatOut, CompatSuite, SiteVerdict, VersionSet

MAX_ROWS = 20_000
DEFAULT_DAYS, MAX_DAYS = 90, 3650
FORMATS = ("pip", "spack")
Key = tuple[str | None, ...]


def _rows(db: Session, suites: Iterable[str], since: datetime) -> Any:
    """The newest suite run of each (suite, site, variant, stored components) in the window,
    newest first. The database keeps one row per distinct ``components`` value of a cell, so
    what comes back grows with the version sets a cell ran, not with how many times it ran
    them (``_suite`` folds sets that differ only outside a suite's components, or in spelling)."""
    stored = cast(Run.components, Text)
    newest = (
        select(SuiteRun.id.label("suite_run_id"), Run.id.label("run_pk"),
               func.row_number().over(partition_by=(SuiteRun.suite, SuiteRun.site_id, SuiteRun.variant, stored),
                                      order_by=(SuiteRun.started_at.desc(), SuiteRun.id.desc())).label("rank"))
        .join(Run, Run.id == SuiteRun.run_id)
        .where(SuiteRun.suite.in_(list(suites)), SuiteRun.started_at >= since)
        .subquery()
    )
    return db.execute(
        select(SuiteRun.suite, SuiteRun.variant, SuiteRun.started_at, Run.id, Run.run_id, Run.components,
               Run.finished_at.is_not(None), Site.name, Site.facility, *(getattr(SuiteRun, c) for c in COUNTERS))
        .join(newest, newest.c.suite_run_id == SuiteRun.id)
        .join(Run, Run.id == newest.c.run_pk).join(Site, Site.id == SuiteRun.site_id)
        .where(newest.c.rank == 1)
        .order_by(SuiteRun.started_at.desc(), SuiteRun.id.desc()).limit(MAX_ROWS)
    ).tuples()


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


def _suite(info: SuiteInfo, rows: list[Any]) -> CompatSuite:
    sets: dict[Key, dict[tuple[str, str], SiteVerdict]] = {}
    for row in rows:  # newest first: the first row of a (set, site, variant) is its verdict
        uploaded = _uploaded(row.components, info.requires)
        key = tuple(normalize_version(uploaded[c]) for c in info.requires)
        cell = sets.setdefault(key, {})
        if (row.name, row.variant) in cell:
            continue
        counts = dict(zip(COUNTERS, row[-len(COUNTERS):], strict=True))
        cell[(row.name, row.variant)] = SiteVerdict(
            site=row.name, facility=row.facility, variant=row.variant, status=rule.in_run(counts, row[6]),
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
    if chosen:
        for row in _rows(db, by_suite, since):
            by_suite[row.suite].append(row)
    return CompatOut(generated_at=datetime.now(UTC), days=days,
                     suites=[_suite(s, by_suite[s.name]) for s in chosen])


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
