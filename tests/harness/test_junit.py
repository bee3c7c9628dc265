"""JUnit XML beside the record file (test_harness/junit.py), read back with junitparser."""

from __future__ import annotations

from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped

from exaworks_sdk.records import RecordWriter, RunStart, TestResult, new_id, utcnow
from exaworks_sdk.status import Status
from test_harness.junit import write_junit


def test_each_outcome_becomes_its_junit_element(tmp_path: Path) -> None:
    records = tmp_path / "run.jsonl"
    outcomes = {"ok": Status.PASSED, "bad": Status.FAILED, "broken": Status.ERROR, "absent": Status.SKIPPED,
                "upstream": Status.KNOWN, "healed": Status.FIXED}
    with RecordWriter(records) as writer:
        writer.write(RunStart(id=new_id(), run_id="run-0001", site="local-linux", started_at=utcnow()))
        for name, status in outcomes.items():
            writer.write(TestResult(id=new_id(), run_id="run-0001", suite="psij" if name != "ok" else "parsl",
                                    test_id=f"test_x.py::test_{name}", status=status, duration=1.25,
                                    message=f"{name} message\nsecond line", output=f"{name} output"))
    xml = JUnitXml.fromfile(str(write_junit(records, tmp_path / "run.junit.xml")))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"parsl", "psij"}
    cases = {case.name: case for suite in xml for case in suite}
    assert cases["test_ok"].result == [] and cases["test_ok"].classname == "parsl.test_x.py"
    assert isinstance(cases["test_bad"].result[0], Failure) and cases["test_bad"].result[0].message == "bad message"
    assert isinstance(cases["test_broken"].result[0], Error)
    assert isinstance(cases["test_absent"].result[0], Skipped)
    assert cases["test_upstream"].result[0].message.startswith("known incompatibility: upstream message")
    assert cases["test_healed"].result == []
    assert cases["test_bad"].system_out == "bad output"
    assert suites["psij"].tests == 5 and suites["psij"].failures == 1 and suites["psij"].errors == 1
