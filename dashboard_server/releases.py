"""Release attestations: ``sdk release check --json`` writes one, ``sdk-dashboard releases
record`` stores it here, ``/releases/<version>`` shows it with a badge.

An attestation is not taken on trust. Before it is stored, every cell that cites a run is
checked against this dashboard's own records: the run exists at that site (by the client's run
id, the same on every dashboard), its recorded versions are the ones the cell names, and the
suite's status in it agrees with the cell's state (green: accepted; red: not). ``ready`` must
follow from the cells. A release's attestation is final unless replaced on purpose.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from exaworks_sdk import status as rule
from exaworks_sdk.release.attestation import GREEN, RED, Attestation, AttestedCell
from exaworks_sdk.status import COUNTERS
from exaworks_sdk.versions import same_version

from .exceptions import BadInput, NotFound
from .models import Release, Run, Site, SuiteRun, utcnow
from .schemas import ReleaseBrief, ReleaseCell, ReleaseList, ReleaseOut


def parse(data: Any) -> Attestation:
    try:
        return Attestation.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'attestation'}: {e['msg']}" for e in exc.errors()[:20]]
        raise BadInput("not a release attestation: " + "; ".join(problems), code="invalid_attestation") from None


def _cited_runs(db: Session, cells: list[AttestedCell]) -> tuple[dict[tuple[str, str], Run],
                                                                  dict[tuple[int, str], dict[str, int]]]:
    """The runs the cells cite, by (site, run id), and their suites' counters by (run, suite):
    two statements for the whole attestation, however many cells it has."""
    cited = {(c.site, c.run_id) for c in cells if c.run_id is not None}
    if not cited:
        return {}, {}
    runs = {(site, run.run_id): run for run, site in db.execute(
        select(Run, Site.name).join(Site, Site.id == Run.site_id)
        .where(tuple_(Site.name, Run.run_id).in_(sorted(cited)))).tuples()}
    counts = {(row[0], row[1]): dict(zip(COUNTERS, row[2:], strict=True)) for row in db.execute(
        select(SuiteRun.run_id, SuiteRun.suite, *(getattr(SuiteRun, c) for c in COUNTERS))
        .where(SuiteRun.run_id.in_(sorted({run.id for run in runs.values()}))))}
    return runs, counts


def verify(db: Session, attestation: Attestation) -> tuple[dict[str, int], list[str]]:
    """This dashboard's number of every cited run, and every way the attestation disagrees with
    this dashboard's records (empty when it agrees)."""
    problems = attestation.consistent()
    local: dict[str, int] = {}
    runs, suite_counts = _cited_runs(db, [c for c in attestation.cells if c.state in (GREEN, RED)])
    for cell in attestation.cells:
        where = f"{cell.site} {cell.variant} {cell.suite}"
        if cell.state not in (GREEN, RED):
            continue
        if cell.run_id is None:
            problems.append(f"{where}: a {cell.state} cell must cite a run")
            continue
        run = runs.get((cell.site, cell.run_id))
        if run is None:
            problems.append(f"{where}: run {cell.run_id} of {cell.site} is not on this dashboard")
            continue
        local[cell.run_id] = run.id
        counts = suite_counts.get((run.id, cell.suite))
        if counts is None:
            problems.append(f"{where}: run {cell.run_id} has no results of suite {cell.suite}")
            continue
        shown = rule.in_run(counts, run.finished_at is not None)
        if (shown in rule.ACCEPTED) != (cell.state == GREEN):
            problems.append(f"{where}: the cell says {cell.state}, run {cell.run_id} has {cell.suite} {shown}")
        recorded = run.components or {}
        for component, version in cell.versions.items():
            found = recorded.get(component)
            if found in (None, "") and version is None:
                continue  # not found, as the cell says (``compat``: an empty version is none)
            if not same_version(found, version):
                problems.append(f"{where}: the cell says {component} {version}, run {cell.run_id} recorded "
                                f"{recorded.get(component) or 'none'}")
    return local, problems


def record(db: Session, data: Any, replace: bool = False) -> Release:
    """Store an attestation once it agrees with this dashboard; BadInput (with every problem
    listed) when it does not, or when its version is already recorded and ``replace`` is off."""
    attestation = parse(data)
    local, problems = verify(db, attestation)
    if problems:
        raise BadInput(f"the attestation of {attestation.release} disagrees with this dashboard", status=422,
                       code="attestation_mismatch", details=problems)
    row = db.scalar(select(Release).where(Release.version == attestation.version))
    if row is not None and not replace:
        raise BadInput(f"release {attestation.version} already has an attestation (recorded "
                       f"{row.recorded_at:%Y-%m-%d %H:%M} UTC); give --replace to replace it",
                       status=409, code="release_exists")
    if row is None:
        row = Release(version=attestation.version)
        db.add(row)
    row.ready, row.checked_at, row.recorded_at = attestation.ready, attestation.checked_at, utcnow()
    row.attestation, row.runs = attestation.model_dump(mode="json"), local
    db.flush()
    return row


def _brief(row: Release, attestation: Attestation) -> dict[str, Any]:
    return {"version": row.version, "release": attestation.release, "ready": row.ready,
            "checked_at": row.checked_at, "recorded_at": row.recorded_at,
            "manifest_digest": attestation.manifest_digest, "counts": attestation.counts()}


def releases(db: Session) -> ReleaseList:
    rows = db.scalars(select(Release).order_by(Release.checked_at.desc(), Release.id.desc())).all()
    return ReleaseList(releases=[ReleaseBrief(**_brief(row, Attestation.model_validate(row.attestation)))
                                 for row in rows])


def release(db: Session, version: str) -> ReleaseOut:
    row = db.scalar(select(Release).where(Release.version == version))
    if row is None:
        raise NotFound(f"no attestation of release {version!r} on this dashboard")
    attestation = Attestation.model_validate(row.attestation)
    cells = [ReleaseCell(**cell.model_dump(), local_run=row.runs.get(cell.run_id or ""))
             for cell in attestation.cells]
    return ReleaseOut(**_brief(row, attestation), dashboard=attestation.dashboard, days=attestation.days,
                      cells=cells, runs=dict(attestation.runs))


def ready_of(db: Session, version: str) -> bool | None:
    """The badge's question only: None when the release has no attestation here."""
    return db.scalar(select(Release.ready).where(Release.version == version))
