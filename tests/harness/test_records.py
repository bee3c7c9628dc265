"""The record file the runner writes round-trips through exaworks_sdk.records, and JUnit follows it."""

from __future__ import annotations

import json
from pathlib import Path

from junitparser import JUnitXml

from exaworks_sdk import record_file
from exaworks_sdk.records import Phase, RunStart, Status, TestResult, new_id, parse_record, read_records, utcnow
from test_harness.detect import detect_all
from test_harness.junit import write_junit
from test_harness.runner import Runner


def _run(components: dict, suites: list, tmp_path: Path) -> Path:
    records = tmp_path / "run.jsonl"
    start = RunStart(id=new_id(), run_id=new_id(), site="harness-test", started_at=utcnow(),
                     environment={"cpu_count": 2})
    Runner(components, detect_all(components)).run(suites, records, start)
    return records


def test_every_line_round_trips(components: dict, fixture_suites: dict, tmp_path: Path) -> None:
    path = _run(components, [fixture_suites["ok"], fixture_suites["fails"]], tmp_path)
    lines = path.read_text().splitlines()
    for line in lines:
        data = json.loads(line)
        assert data["schema_version"] == 1
        record = parse_record(data)
        assert json.loads(record.to_line()) == data
    assert [type(r).__name__ for r in read_records(path)][0] == "RunStart"


def test_torn_last_line_leaves_an_unfinished_run(components: dict, fixture_suites: dict, tmp_path: Path) -> None:
    path = _run(components, [fixture_suites["ok"]], tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])  # killed while writing RunFinish
    records = list(read_records(path))
    assert records[-1].type == "test_result"


def test_junit_matches_records(components: dict, fixture_suites: dict, tmp_path: Path) -> None:
    path = _run(components, [fixture_suites["ok"], fixture_suites["fails"], fixture_suites["needs-tool"]],
                tmp_path)
    results = [r for r in read_records(path) if isinstance(r, TestResult)]
    xml = JUnitXml.fromfile(str(write_junit(path, tmp_path / "run.junit.xml")))
    assert xml.tests == len(results)
    assert xml.failures == sum(r.status is Status.FAILED for r in results)
    assert xml.skipped == sum(r.status is Status.SKIPPED for r in results)
    assert {s.name for s in xml} == {"ok", "fails", "needs-tool"}


def test_the_plain_test_result_is_what_the_model_builds() -> None:
    """A suite's plugin writes test results without pydantic (exaworks_sdk.record_file); the
    harness validates each line. Both spellings of one record must agree."""
    started = utcnow()
    fields = {"run_id": "run-0001", "suite": "psij", "test_id": "test_psij.py::test_x[2]", "status": Status.FAILED,
              "duration": 1.5, "started_at": started, "message": "boom", "output": "trace",
              "phases": {"setup": record_file.phase(Status.PASSED, 0.1),
                         "call": record_file.phase(Status.FAILED, 1.4, "boom")}}
    plain = record_file.test_result(id="a1b2c3d4e5", **fields)
    model = TestResult(id="a1b2c3d4e5", **{**fields, "phases": {k: Phase(**v) for k, v in fields["phases"].items()}})
    assert parse_record(json.loads(json.dumps(plain))) == model
    assert json.loads(json.dumps(plain)) == model.to_dict()
