"""What sdk-test prints (test_harness/console.py): progress lines and the run's summary table."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from exaworks_sdk.records import TestResult, new_id
from exaworks_sdk.status import Status
from test_harness import console as out
from test_harness.runner import RunResult, SuiteOutcome
from test_harness.suite import Suite


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Console:
    console = Console(record=True, width=200, color_system=None)
    monkeypatch.setattr(out, "console", console)
    return console


def _suite(name: str) -> Suite:
    return Suite(name=name, path=Path(f"test_{name}.py"), requires=(name,), description=f"{name} suite")


def test_progress_lines_name_the_suite_test_and_reason(recorder: Console) -> None:
    suite = _suite("rp-flux")
    outcome = SuiteOutcome(suite, timeout=300, skip_reason=None)
    out.progress("suite_start", suite, outcome)
    out.progress("test", suite, TestResult(id=new_id(), run_id="run-0001", suite="rp-flux",
                                           test_id="test_rp_flux.py::test_tasks", status=Status.KNOWN,
                                           duration=2.0, message="RP 1.90 flux launch method\nn_partitions bug"))
    outcome.counts[Status.KNOWN] += 1
    outcome.duration = 3.5
    out.progress("suite_finish", suite, outcome)
    text = recorder.export_text()
    assert "▶ rp-flux (timeout 300 s)" in text
    # a known test's message leads with what it is (the harness puts the entry's reason first);
    # its last line is the tail of the upstream failure
    assert "~ rp-flux::test_tasks (2.0 s) — RP 1.90 flux launch method" in text
    assert "■ rp-flux known in 3.5 s" in text


def test_summary_table_counts_every_outcome_and_points_at_failing_logs(recorder: Console, tmp_path: Path) -> None:
    good, bad = SuiteOutcome(_suite("parsl"), 300), SuiteOutcome(_suite("flux"), 300)
    good.counts = Counter({Status.PASSED: 3, Status.FIXED: 1})
    bad.counts = Counter({Status.FAILED: 1, Status.SKIPPED: 2})
    bad.log = tmp_path / "flux.log"
    bad.messages = ["flux not found: no `flux` on PATH\nmore"]
    result = RunResult("run-0001", tmp_path / "run.jsonl", [good, bad], Status.FAILED, 1)
    recorder.print(out.summary_table(result))
    text = recorder.export_text()
    assert "fixed?" in text  # the label, not the raw value
    parsl = next(line for line in text.splitlines() if "parsl" in line)
    assert "fixed?" in parsl and " 3 " in parsl
    flux = next(line for line in text.splitlines() if "│ flux" in line)
    assert "failed" in flux and "flux not found" in flux and "flux.log" in flux
    total = next(line for line in text.splitlines() if "total" in line)
    assert "failed" in total
