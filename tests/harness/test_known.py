"""Known incompatibilities in a real run: a fixture suite whose tests the manifest names."""

from __future__ import annotations

from pathlib import Path

import pytest

from exaworks_sdk.manifest import Component, KnownIncompatibility
from exaworks_sdk.records import RunStart, Status, TestResult, new_id, read_records, utcnow
from exaworks_sdk.status import exit_code
from test_harness.detect import detect_all
from test_harness.known import applicable
from test_harness.listing import suite_summary
from test_harness.runner import Runner
from tests.harness.conftest import fixture_suite

BUG = "https://github.com/example/upstream/commit/0123456789abcdef"


@pytest.fixture
def buggy(make_component) -> dict[str, Component]:  # type: ignore[no-untyped-def]
    """PyYAML stands in for an upstream component: it is installed and has a version."""
    comp = make_component("yamlish", **{"import": "yaml", "distribution": "PyYAML"})
    entries = [
        {"versions": ">=1", "suite": "upstream-bug", "tests": ["test_bug_reproduces", "test_bug_gone",
                                                              "test_other_failure"],
         "signature": r"no attribute 'n_parts'", "link": BUG, "reason": "the launch method crashes on start"},
        {"versions": "<1", "suite": "upstream-bug", "tests": ["test_out_of_range"],
         "signature": "coroutine", "link": BUG, "reason": "only old releases break this way"},
    ]
    known = [KnownIncompatibility.model_validate(e) for e in entries]
    return {"yamlish": comp.model_copy(update={"known_incompatibilities": known})}


def _run(components: dict[str, Component], module: str, tmp_path: Path) -> tuple[int, dict[str, TestResult]]:
    records_path = tmp_path / f"{module}.jsonl"
    start = RunStart(id=new_id(), run_id=new_id(), site="harness-test", started_at=utcnow())
    suite = fixture_suite("upstream-bug", module, ("yamlish",))
    result = Runner(components, detect_all(components)).run([suite], records_path, start)
    tests = {r.test_id.rpartition("::")[2]: r for r in read_records(records_path) if isinstance(r, TestResult)}
    return result.exit_code, tests


def test_entries_apply_only_inside_their_version_range(buggy: dict[str, Component]) -> None:
    found = applicable(buggy, detect_all(buggy), "upstream-bug")
    assert [e.tests for e in found] == [("test_bug_reproduces", "test_bug_gone", "test_other_failure")]
    assert found[0].version and found[0].component == "yamlish"
    assert applicable(buggy, detect_all(buggy), "another-suite") == []


def test_known_and_fixed_outcomes_in_a_real_run(buggy: dict[str, Component], tmp_path: Path) -> None:
    code, tests = _run(buggy, "suite_upstream_bug.py", tmp_path)

    known = tests["test_bug_reproduces"]
    assert known.status is Status.KNOWN
    assert "the launch method crashes on start" in known.message and BUG in known.message
    assert "no attribute 'n_parts'" in known.message, "the failure itself stays visible"

    fixed = tests["test_bug_gone"]
    assert fixed.status is Status.FIXED and "fixed?" in fixed.message and BUG in fixed.message

    other = tests["test_other_failure"]
    assert other.status is Status.FAILED, "a different failure is never excused by the entry"
    assert "different failure" in other.message

    assert tests["test_not_named"].status is Status.FAILED, "the entry names tests; others stay failures"
    assert tests["test_out_of_range"].status is Status.FAILED, "an entry outside its range does not apply"
    assert code == exit_code(Status.FAILED)


def test_known_and_fixed_alone_do_not_fail_the_run(buggy: dict[str, Component], tmp_path: Path) -> None:
    code, tests = _run(buggy, "suite_upstream_bug_only.py", tmp_path)
    assert {t.status for t in tests.values()} == {Status.KNOWN, Status.FIXED}
    assert code == 0


def test_without_the_entry_the_same_suite_fails(make_component, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plain = {"yamlish": make_component("yamlish", **{"import": "yaml", "distribution": "PyYAML"})}
    code, tests = _run(plain, "suite_upstream_bug_only.py", tmp_path)
    assert tests["test_bug_reproduces"].status is Status.FAILED and tests["test_bug_gone"].status is Status.PASSED
    assert code == 1


def test_listing_expects_known_where_an_entry_applies(buggy: dict[str, Component]) -> None:
    suite = fixture_suite("upstream-bug", "suite_upstream_bug.py", ("yamlish",))
    row = suite_summary(suite, buggy, detect_all(buggy), 60.0)
    assert row["runnable"] and row["expect"] == "known"
    assert row["known_incompatibilities"][0]["link"] == BUG
    other = fixture_suite("other", "suite_ok.py", ("yamlish",))
    assert suite_summary(other, buggy, detect_all(buggy), 60.0)["expect"] == "passed"
