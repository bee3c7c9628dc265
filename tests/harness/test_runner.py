"""The runner against tiny fixture suites: real pytest subprocesses, real records, no mocks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exaworks_sdk.records import RunFinish, RunStart, Status, TestResult, new_id, read_records, utcnow
from test_harness.detect import detect_all
from test_harness.runner import Runner, RunResult, _Exits, suite_timeout
from tests.harness.conftest import fixture_suite


def _run(components: dict, suites: list, tmp_path: Path, **kwargs: object) -> tuple[RunResult, list]:
    records = tmp_path / "results" / "run.jsonl"
    start = RunStart(id=new_id(), run_id=new_id(), site="harness-test", started_at=utcnow())
    runner = Runner(components, detect_all(components), **kwargs)  # type: ignore[arg-type]
    result = runner.run(suites, records, start)
    return result, list(read_records(records))


def _by_test(records: list) -> dict[str, TestResult]:
    return {r.test_id.rpartition("::")[2]: r for r in records if isinstance(r, TestResult)}


def test_records_frame_the_run(components: dict, fixture_suites: dict, tmp_path: Path) -> None:
    result, records = _run(components, [fixture_suites["ok"], fixture_suites["fails"]], tmp_path)
    assert isinstance(records[0], RunStart) and isinstance(records[-1], RunFinish)
    assert len({r.id for r in records}) == len(records), "record ids must be unique"
    assert {r.run_id for r in records} == {result.run_id}
    tests = _by_test(records)
    assert tests["test_passes"].status is Status.PASSED
    assert tests["test_passes"].phases["call"].status is Status.PASSED
    assert tests["test_fails"].status is Status.FAILED
    assert "a deliberate failure" in tests["test_fails"].message
    assert "a deliberate failure" in tests["test_fails"].output
    assert records[-1].status is Status.FAILED and records[-1].exit_code == 1
    assert result.exit_code == 1
    assert (tmp_path / "results" / "run.logs" / "ok.log").is_file()


def test_missing_component_skips_every_test_with_the_reason(components: dict, fixture_suites: dict,
                                                             tmp_path: Path) -> None:
    result, records = _run(components, [fixture_suites["needs-tool"]], tmp_path)
    tests = _by_test(records)
    assert set(tests) == {"test_one", "test_two"}
    for record in tests.values():
        assert record.status is Status.SKIPPED, "a missing component must never pass"
        assert record.message == "ghost-tool not found: no `sdk-ghost-tool-not-installed` on PATH"
    assert result.outcomes[0].status is Status.SKIPPED
    assert result.exit_code == 0


def test_per_test_requirement_skips_only_that_test(components: dict, fixture_suites: dict, tmp_path: Path) -> None:
    _, records = _run(components, [fixture_suites["ok"]], tmp_path)
    tests = _by_test(records)
    assert tests["test_needs_ghost_tool"].status is Status.SKIPPED
    assert "ghost-tool not found" in tests["test_needs_ghost_tool"].message
    assert tests["test_runs_in_its_own_directory"].status is Status.PASSED


def test_suites_write_their_own_home_not_ours(components: dict, fixture_suites: dict, tmp_path: Path) -> None:
    probe = Path(os.environ["HOME"]) / ".sdk-harness-probe"
    before = probe.exists()
    _, records = _run(components, [fixture_suites["ok"]], tmp_path, workdir=tmp_path / "work")
    assert _by_test(records)["test_writes_home"].status is Status.PASSED
    assert probe.exists() == before, "a suite wrote into the real $HOME"
    assert not (tmp_path / "work" / "ok").exists(), "the suite's sandbox was not removed"


def test_hung_suite_is_killed_at_its_timeout_and_the_rest_go_on(components: dict, fixture_suites: dict,
                                                                  tmp_path: Path) -> None:
    sleepy, ok = fixture_suites["sleepy"], fixture_suites["ok"]
    assert suite_timeout(sleepy, components) == 10  # from the component's suite_timeout
    started = time.monotonic()
    result, records = _run(components, [sleepy, ok], tmp_path, jobs=2, timeout_factor=0.3)
    assert time.monotonic() - started < 30
    tests = _by_test(records)
    assert tests["test_quick"].status is Status.PASSED
    for name in ("test_hangs", "test_never_reached"):
        assert tests[name].status is Status.ERROR
        assert "killed after 3 s" in tests[name].message and "sleepy" in tests[name].message
    assert tests["test_passes"].status is Status.PASSED, "the other suite must still run"
    outcome = {o.suite.name: o for o in result.outcomes}
    assert outcome["sleepy"].timed_out and outcome["sleepy"].status is Status.ERROR
    assert outcome["ok"].status is Status.PASSED
    assert isinstance(records[-1], RunFinish) and records[-1].status is Status.ERROR


def test_serial_suites_do_not_overlap(components: dict, fixture_suites: dict, tmp_path: Path) -> None:
    from dataclasses import replace

    events: list[tuple[str, str, float]] = []
    a = replace(fixture_suites["ok"], name="a", serial="rp")
    b = replace(fixture_suites["ok"], name="b", serial="rp")
    runner = Runner(components, detect_all(components), jobs=2,
                    listener=lambda event, suite, _: events.append((event, suite.name, time.monotonic())))
    runner.run([a, b], tmp_path / "r.jsonl", RunStart(id=new_id(), run_id=new_id(), site="s", started_at=utcnow()))
    order = [(e, n) for e, n, _ in events if e != "test"]
    assert order == [("suite_start", "a"), ("suite_finish", "a"), ("suite_start", "b"), ("suite_finish", "b")]


@pytest.mark.parametrize("broken", ["syntax"])
def test_a_suite_that_cannot_import_is_an_error(components: dict, fixture_suites: dict, tmp_path: Path,
                                                 broken: str) -> None:
    from dataclasses import replace

    module = tmp_path / "suite_broken.py"
    module.write_text("def test_x(:\n    pass\n")
    suite = replace(fixture_suites["ok"], name="broken", path=module)
    result, records = _run(components, [suite], tmp_path)
    statuses = [r.status for r in records if isinstance(r, TestResult)]
    assert statuses and set(statuses) == {Status.ERROR}
    assert result.exit_code == 1


def test_lines_a_suite_wrote_that_are_not_records_become_errors(components: dict, tmp_path: Path) -> None:
    """The plugin writes its lines without pydantic; the runner validates each one, and a bad one is
    an error of that test (or of the suite), never a crash of the run or a silent loss."""
    result, records = _run(components, [fixture_suite("bad", "suite_bad_record.py", ("pyjson",))], tmp_path)
    tests = _by_test(records)
    assert tests["test_writes_bad_lines"].status is Status.PASSED
    assert tests["ghost"].status is Status.ERROR
    assert tests["ghost"].message.startswith("the suite wrote an invalid record")
    assert tests["<suite>"].status is Status.ERROR and "not json at all" in tests["<suite>"].output
    assert isinstance(records[-1], RunFinish) and result.exit_code == 1


def test_a_suite_that_ends_wakes_the_runner_at_once() -> None:
    """No polling delay between one suite's end and the next one's start."""
    exits = _Exits()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    try:
        exits.watch(proc.pid)
        started = time.monotonic()
        exits.wait(60)
        waited = time.monotonic() - started
        assert proc.wait(timeout=60) == 0
        assert waited < 30, "woken by the timeout, not by the exit"
    finally:
        exits.close()


def test_a_suite_hung_by_a_known_race_says_so(components: dict, tmp_path: Path) -> None:
    """Killed at its time-out, a suite whose sandbox holds a known upstream race's trace (here RP's
    raptor worker race, as RP writes it) names the race, its link and the evidence."""
    raced = fixture_suite("raced", "suite_raced_hangs.py", ("sleepy",))
    _, records = _run(components, [raced], tmp_path, timeout_factor=0.5)
    (test,) = [r for r in records if isinstance(r, TestResult)]
    assert test.status is Status.ERROR
    assert test.message.startswith("suite raced killed after 5 s")
    assert "upstream race: RADICAL-Pilot raptor worker starts taking requests before it can run them" in test.message
    assert "blob/v1.90.0/src/radical/pilot/raptor/worker_default.py#L46-L60" in test.message
    assert "pilot.0000/rpex.worker.000000/rpex.worker.000000.err:1: listener died" in test.message
