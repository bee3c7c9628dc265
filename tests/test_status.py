"""The one status rule (exaworks_sdk/status.py): tests → suite, suites → run, suite → cell."""

from __future__ import annotations

import pytest

from exaworks_sdk import status as rule
from exaworks_sdk.status import Shown, Status


def counts(**named: int) -> dict[str, int]:
    return {name: named.get(name, 0) for name in rule.COUNTERS}


@pytest.mark.parametrize(("tests", "expected"), [
    (counts(passed=3), Shown.PASSED),
    (counts(passed=1, skipped=4), Shown.PASSED),        # a skip counts only when nothing else ran
    (counts(skipped=2), Shown.SKIPPED),
    (counts(passed=5, failed=1), Shown.FAILED),
    (counts(failed=1, error=1), Shown.ERROR),
    (counts(passed=2, known=1), Shown.KNOWN),           # a known upstream bug is not a pass
    (counts(known=1, fixed=1), Shown.FIXED),            # ... and one that stopped reproducing shows
    (counts(fixed=1, failed=1), Shown.FAILED),
])
def test_tests_to_suite(tests: dict[str, int], expected: Shown) -> None:
    assert rule.from_counts(tests) == expected
    assert rule.in_run(tests, finished=True) == expected


def test_a_suite_shows_its_own_status_while_another_suite_of_the_run_fails() -> None:
    parsl, flux = counts(passed=1), counts(failed=1)
    assert rule.in_run(parsl, finished=True) == Shown.PASSED
    assert rule.in_run(flux, finished=True) == Shown.FAILED
    run = {name: parsl[name] + flux[name] for name in rule.COUNTERS}
    assert rule.run_status(run, finished=True, reported="failed") == Shown.FAILED


def test_open_runs_are_unfinished_unless_already_failing() -> None:
    assert rule.in_run(counts(passed=3), finished=False) == Shown.UNFINISHED
    assert rule.in_run(counts(passed=3, error=1), finished=False) == Shown.ERROR
    assert rule.run_status(counts(passed=3), finished=False) == Shown.UNFINISHED
    assert rule.run_status(counts(), finished=False) == Shown.UNFINISHED


def test_a_finished_run_without_tests_is_an_error() -> None:
    assert rule.run_status(counts(), finished=True, reported="passed") == Shown.ERROR


def test_the_reported_verdict_only_makes_a_run_worse() -> None:
    assert rule.run_status(counts(passed=2), finished=True, reported="error") == Shown.ERROR
    assert rule.run_status(counts(failed=2), finished=True, reported="passed") == Shown.FAILED
    assert rule.run_status(counts(passed=2), finished=True, reported="nonsense") == Shown.PASSED


@pytest.mark.parametrize(("phases", "expected"), [
    ({"setup": "passed", "call": "passed", "teardown": "passed"}, Status.PASSED),
    ({"setup": "skipped"}, Status.SKIPPED),
    ({"setup": "error", "teardown": "passed"}, Status.ERROR),
    ({"setup": "passed", "call": "failed", "teardown": "error"}, Status.FAILED),
    ({"setup": "passed", "call": "passed", "teardown": "error"}, Status.ERROR),
    ({"setup": "passed", "call": "passed", "teardown": "skipped"}, Status.PASSED),
    ({"call": "known"}, Status.KNOWN),
    ({}, Status.PASSED),
])
def test_phases_to_test(phases: dict[str, str], expected: Status) -> None:
    assert rule.from_phases(phases) == expected


def test_worst_and_labels() -> None:
    assert rule.worst([]) == Shown.UNKNOWN
    assert rule.worst(["passed", "unfinished", "skipped"]) == Shown.UNFINISHED
    assert rule.worst(["known", "passed"]) == Shown.KNOWN
    assert rule.label(Shown.FIXED) == "fixed?"
    assert rule.label(Shown.PASSED) == "passed"
    assert [rule.exit_code(s) for s in (Status.PASSED, Status.KNOWN, Status.FAILED, Status.ERROR)] == [0, 0, 1, 1]
