"""JUnit XML beside the record file, for GitLab's test-report tab. Derived from the records."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from exaworks_sdk.records import TestResult, read_records
from exaworks_sdk.status import Status


def write_junit(records_path: Path, junit_path: Path) -> Path:
    by_suite: dict[str, list[TestResult]] = defaultdict(list)
    for record in read_records(records_path):
        if isinstance(record, TestResult):
            by_suite[record.suite].append(record)
    xml = JUnitXml(name="exaworks-sdk")
    for suite_name, results in by_suite.items():
        suite = TestSuite(suite_name)
        for result in results:
            file_part, _, name = result.test_id.rpartition("::")
            case = TestCase(name or result.test_id, classname=f"{suite_name}.{file_part}".rstrip("."),
                            time=round(result.duration, 3))
            first_line = result.message.splitlines()[0] if result.message else ""
            if result.status in (Status.FAILED, Status.ERROR):
                outcome = (Failure if result.status is Status.FAILED else Error)(first_line)
                outcome.text = result.message
                case.result = [outcome]
            elif result.status is Status.SKIPPED:
                case.result = [Skipped(result.message)]
            elif result.status is Status.KNOWN:  # JUnit has no such outcome; say what it is
                case.result = [Skipped(f"known incompatibility: {result.message}")]
            if result.output:
                case.system_out = result.output
            suite.add_testcase(case)
        suite.update_statistics()
        xml.add_testsuite(suite)
    xml.update_statistics()
    junit_path.parent.mkdir(parents=True, exist_ok=True)
    xml.write(str(junit_path), pretty=True)
    return junit_path
