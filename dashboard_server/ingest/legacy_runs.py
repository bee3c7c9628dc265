"""Which run a legacy record belongs to.

A legacy run is named (site, run id, branch, variant) (``models.Run``). Old clients do not
always say all of that, so the rules are:

* **Variant known** (a ``[pip]`` branch suffix, the wrapper's ``tests_group``, or a client
  without variants, which is ``default``): the record goes to that run, created if needed.
* **Variant not known yet**: the old SDK wrapper's start record ("Set Environment") names no
  variant in the wrapper most sites run; its pip, spack and conda jobs share one pipeline id
  and branch. Each such start opens a *pending* run (``key_variant`` NULL). The first test
  record of a variant that has no run yet claims the newest open pending run of its pipeline
  and branch, so each job's start becomes that job's run.
* **End without a variant** ("End Test Series" of that wrapper): each job sends it right
  after its own last test, so it finishes the open run of the pipeline and branch whose test
  arrived last (a run without tests only when none has any). When another job's test lands
  in between, an end may finish that job's run first; each end still finishes one open run,
  so once every job has ended every run is finished, and no test ever changes run.
* **No run id** (the wrapper's ``$RANDOM`` fallback is never exported; psij without
  ``--run-id``): every start record opens a new run under a fresh id the dashboard makes up
  (``generated_id``); later records without a run id go to the newest open run of their
  branch (and variant), never to one long run appended to forever.

Claims are conditional updates (``... WHERE key_variant IS NULL``), so two concurrent records
cannot claim one run; a lost race on the unique name is retried whole by ``db.run_write``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..models import Run, TestResultRow
from .store import Writer

UNKNOWN_VARIANT = "unknown"  # shown for a pending run until a test names its variant


@dataclass(frozen=True)
class Name:
    """What a record says about its run: the client's run id (None: none sent), the branch
    without its variant suffix ("" for none) and the variant (None: not said)."""

    run_id: str | None
    branch: str
    variant: str | None


Found = tuple[Run, bool]  # the run, and whether this record created it


def fresh_run_id() -> str:
    return "auto-" + secrets.token_hex(8)


def _group(writer: Writer, name: Name) -> Any:
    """Runs of this site and branch with the record's run id, or all the dashboard named."""
    query = select(Run).where(Run.site_id == writer.site.id, Run.source == "legacy", Run.key_branch == name.branch)
    if name.run_id is None:
        return query.where(Run.generated_id.is_(True))
    return query.where(Run.run_id == name.run_id, Run.generated_id.is_(False))


def _open(writer: Writer, name: Name) -> list[Run]:
    """Unfinished runs of the record's group, newest first."""
    return list(writer.db.scalars(_group(writer, name).where(Run.finished_at.is_(None)).order_by(Run.id.desc())))


def _claim(db: Session, run: Run, variant: str) -> bool:
    """Give a pending run its variant, unless a concurrent writer claimed it first."""
    claimed = db.execute(
        update(Run).where(Run.id == run.id, Run.key_variant.is_(None))
        .values(key_variant=variant, variant=variant)
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(claimed, "rowcount", 0) == 1)


def _create(writer: Writer, name: Name, variant: str | None) -> Found:
    """A new run; the caller sets its start time once the record's timestamps are read."""
    run_id = name.run_id if name.run_id is not None else fresh_run_id()
    run = writer.create_run(
        run_id, key_branch=name.branch, key_variant=variant, generated_id=name.run_id is None,
        source="legacy", variant=variant or UNKNOWN_VARIANT, branch=name.branch or None,
    )
    return run, True


def run_for_test(writer: Writer, name: Name, variant: str) -> Found:
    """The run of a test record (or a start or end record whose variant is known)."""
    if name.run_id is not None:
        run = writer.find_run(name.run_id, name.branch, variant)
        if run is not None:
            return run, False
    for _attempt in range(3):
        candidates = [r for r in _open(writer, name) if r.key_variant in (None, variant)]
        if not candidates:
            break
        newest = candidates[0]
        if newest.key_variant == variant:
            return newest, False
        if _claim(writer.db, newest, variant):
            writer.forget(newest)
            return newest, False
    return _create(writer, name, variant)


def run_for_start(writer: Writer, name: Name) -> Found:
    """A start record: its own run when it names a variant, else a new pending run."""
    if name.variant is not None and name.run_id is not None:
        run = writer.find_run(name.run_id, name.branch, name.variant)
        if run is not None:
            return run, False
    return _create(writer, name, name.variant)


def run_for_end(writer: Writer, name: Name) -> Found:
    """An end record: its own run when it names a variant, else the open run tested last."""
    if name.variant is not None:
        return run_for_test(writer, name, name.variant)
    runs = _open(writer, name)
    if not runs:
        newest = writer.db.scalar(_group(writer, name).order_by(Run.id.desc()).limit(1))
        return (newest, False) if newest is not None else _create(writer, name, None)
    last_test = dict(writer.db.execute(
        select(TestResultRow.run_id, func.max(TestResultRow.id))
        .where(TestResultRow.run_id.in_([r.id for r in runs])).group_by(TestResultRow.run_id)
    ).tuples().all())
    tested = [r for r in runs if r.id in last_test]
    return (max(tested, key=lambda r: last_test[r.id]) if tested else runs[0]), False
