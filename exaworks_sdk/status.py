"""Statuses, their rank, and the one rule for combining them.

Every view that shows a status computes it here: the harness (a suite's and a run's
outcome), the dashboard's ingest and pages (a suite in a run, a run, a summary cell, a
sparkline point, a badge) and the CI check scripts. The rule:

* **tests → suite**: the worst test status, where a skip only counts when nothing else ran;
* **suites → run**: the same, and a finished run with no tests at all is an ``error``
  ("no tests ran"), never green;
* **suite in a run → cell / sparkline point**: the suite's own status in that run, never the
  whole run's; while the run is open, anything not already failing shows ``unfinished``.

``known`` is a recorded known incompatibility that reproduced (an upstream bug the manifest
names, with its link): not a pass, not a failure. ``fixed`` is such a test that passed: the
bug no longer reproduces and the manifest entry can be retired (shown as "fixed?").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TypeAlias


class Status(StrEnum):
    """A test's outcome, as result records carry it."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"
    KNOWN = "known"
    FIXED = "fixed"


class Shown(StrEnum):
    """What a page, badge or API response shows: a test outcome, or a state of a run or cell."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"
    KNOWN = "known"
    FIXED = "fixed"
    UNFINISHED = "unfinished"  # the run has not ended (or was killed) and nothing failed yet
    MISSING = "missing"        # the site registry expects this cell, and it never reported
    UNKNOWN = "unknown"        # nothing to show (a badge for a suite nobody ran)


# Worst last. A skip ranks lowest: it only shows when nothing else ran.
RANK: dict[str, int] = {
    Shown.SKIPPED: 0,
    Shown.UNKNOWN: 0,
    Shown.PASSED: 1,
    Shown.KNOWN: 2,
    Shown.FIXED: 3,
    Shown.MISSING: 4,
    Shown.UNFINISHED: 5,
    Shown.FAILED: 6,
    Shown.ERROR: 7,
}
FAILING = frozenset({Status.FAILED, Status.ERROR})
# A suite whose newest verdict is one of these proves its versions work together: the
# compatibility matrix exports them as known good. "known" does not: its tests failed, as the
# manifest predicts.
PROVEN = frozenset({Shown.PASSED, Shown.FIXED})
# What a release check accepts as green: proven, or failing only as the manifest records it
# for exactly these pins (the release ships with that known incompatibility).
ACCEPTED = PROVEN | {Shown.KNOWN}
# The per-status counters a suite in a run keeps (one per test outcome, in this order).
COUNTERS: tuple[str, ...] = tuple(s.value for s in Status)
LABELS: dict[str, str] = {Shown.FIXED: "fixed?"}
NO_TESTS = "no tests ran"

assert set(Status) <= set(Shown) and set(RANK) == set(Shown), "every status has a rank"


# Tests per outcome, keyed by name or by Status (a Counter[Status] from the harness).
Counts: TypeAlias = Mapping[str, int] | Mapping["Status", int]


def label(status: str) -> str:
    """How a status reads on a page ("fixed?" for a known bug that stopped reproducing)."""
    return LABELS.get(status, status)


def worst(statuses: Iterable[str], empty: Shown = Shown.UNKNOWN) -> Shown:
    """The worst of ``statuses`` (a skip only when nothing else); ``empty`` when there are none."""
    found = [Shown(s) for s in statuses]
    return max(found, key=RANK.__getitem__) if found else empty


def from_counts(counts: Counts) -> Shown | None:
    """tests → suite: the worst status with a non-zero count; None when no test is counted."""
    return max((Shown(name) for name, n in counts.items() if n), key=RANK.__getitem__, default=None)


def is_failing(status: str) -> bool:
    return status in FAILING


PHASES = ("setup", "call", "teardown")


def deciding_phase(phases: Mapping[str, str]) -> str | None:
    """phases → test: the phase whose status is the test's. The first of setup and call that
    did not pass decides; a failing teardown decides after a passing call; None means passed."""
    for when in PHASES[:2]:
        if phases.get(when, Status.PASSED) != Status.PASSED:
            return when
    return "teardown" if is_failing(phases.get("teardown", Status.PASSED)) else None


def from_phases(phases: Mapping[str, str]) -> Status:
    when = deciding_phase(phases)
    return Status.PASSED if when is None else Status(phases[when])


def in_run(counts: Counts, finished: bool) -> Shown:
    """A suite's status in one run (a summary cell, a sparkline point): its own tests only."""
    status = from_counts(counts) or Shown.ERROR
    if not finished and not is_failing(status):
        return Shown.UNFINISHED
    return status


def run_status(counts: Counts, finished: bool, reported: str | None = None) -> Shown:
    """suites → run. A finished run with no tests is an error; the harness's own verdict
    (``RunFinish.status``) can make a run worse, never better."""
    derived = from_counts(counts)
    if not finished:
        return derived if derived is not None and is_failing(derived) else Shown.UNFINISHED
    if derived is None:
        return Shown.ERROR
    return worst([derived, reported]) if reported in RANK else derived


def exit_code(status: str) -> int:
    """What a command that ran tests exits with: 1 when anything failed, else 0."""
    return 1 if is_failing(status) else 0
