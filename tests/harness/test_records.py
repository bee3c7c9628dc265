"""The record file the runner writes round-trips through exaworks_sdk.records, and JUnit follows it."""

from __future__ import annotations

import json
from pathlib import Path

from junitparser import JUnitXml

from exaworks_sdk.records import RunStart, Status, TestResult, new_id, parse_record, read_records, utcnow
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
