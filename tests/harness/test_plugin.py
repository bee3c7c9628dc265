"""The pytest plugin (test_harness/plugin.py) turns pytest's phases into one TestResult per test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = '''
import os
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")

@pytest.fixture
def dirty():
    yield
    raise RuntimeError("cleanup failed")

def test_passes():
    assert os.getcwd().endswith("test_passes0")  # every test starts in its own directory

def test_fails():
    assert 1 == 2

def test_setup_error(broken):
    pass

def test_teardown_error(dirty):
    pass

@pytest.mark.xfail(reason="upstream bug", strict=True)
def test_expected_failure():
    assert False

@pytest.mark.xfail(reason="upstream bug", strict=True)
def test_unexpected_pass():
    pass

@pytest.mark.requires("no-such-component")
def test_needs_a_missing_component():
    pass
'''


def run_plugin(tmp_path: Path, source: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    module = tmp_path / "test_sample.py"
    module.write_text(source)
    records = tmp_path / "records.jsonl"
    detections = tmp_path / "detections.json"
    detections.write_text(json.dumps({"no-such-component": {
        "component": "no-such-component", "found": False, "version": None, "reason": "no-such-component is not here"}}))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(module), "-p", "test_harness.plugin", "-p", "no:cacheprovider",
         "--sdk-records", str(records), "--sdk-run-id", "run-0001", "--sdk-suite", "sample",
         "--sdk-detections", str(detections), "--basetemp", str(tmp_path / "base"), "-q", *extra],
        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    lines = records.read_text().splitlines() if records.exists() else []
    return proc, [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    _, records = run_plugin(tmp_path_factory.mktemp("plugin"), SUITE)
    return {r["test_id"].rpartition("::")[2]: r for r in records}


def test_one_record_per_test_with_run_and_suite(outcomes: dict[str, dict]) -> None:
    assert len(outcomes) == 7
    assert {r["run_id"] for r in outcomes.values()} == {"run-0001"}
    assert {r["suite"] for r in outcomes.values()} == {"sample"}
    assert outcomes["test_passes"]["status"] == "passed"
    assert set(outcomes["test_passes"]["phases"]) == {"setup", "call", "teardown"}


@pytest.mark.parametrize(("test", "status", "message"), [
    ("test_fails", "failed", "assert 1 == 2"),
    ("test_setup_error", "error", "fixture exploded"),
    ("test_teardown_error", "error", "teardown: RuntimeError: cleanup failed"),
    ("test_expected_failure", "skipped", "expected failure: upstream bug"),
    ("test_unexpected_pass", "failed", "[XPASS(strict)] upstream bug"),
    ("test_needs_a_missing_component", "skipped", "no-such-component is not here"),
])
def test_phases_decide_the_outcome(outcomes: dict[str, dict], test: str, status: str, message: str) -> None:
    assert outcomes[test]["status"] == status
    assert message in outcomes[test]["message"]


def test_failures_carry_the_traceback(outcomes: dict[str, dict]) -> None:
    assert "----- call: traceback -----" in outcomes["test_fails"]["output"]
    assert "assert 1 == 2" in outcomes["test_fails"]["output"]


def test_a_module_that_cannot_be_collected_is_an_error_record(tmp_path: Path) -> None:
    _, records = run_plugin(tmp_path, "import no_such_module_anywhere\n\ndef test_x():\n    pass\n")
    (record,) = records
    assert record["status"] == "error"
    assert record["message"].startswith("collection failed:")
    assert "no_such_module_anywhere" in record["message"]
