"""pytest plugin loaded into each suite's subprocess (``-p test_harness.plugin``).

It does five things and nothing else:
1. skips every test whose required components were not detected, with the reason;
2. runs each test in its own temporary directory;
3. reports a test named by a known incompatibility that applies here as ``known`` when the
   bug's signature is in its failure, and as ``fixed`` when it passes (test_harness.known);
4. appends one ``TestResult`` per test to ``--sdk-records`` (JSON Lines, flushed per line),
   with the setup/call/teardown phases. The parent process copies these into the run's file;
5. leaves no process behind: the suite's pytest becomes a child subreaper, and whatever the
   suite's fixtures left running below it is ended, and named in the log, when pytest exits.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

# Only the pydantic-free half of the record format: the harness validates each line it copies.
from exaworks_sdk.record_file import MAX_TEXT, RecordWriter, new_id, phase, test_result
from exaworks_sdk.status import Status, deciding_phase
from test_harness import reaper
from test_harness.known import KnownEntry, classify

_WHEN = ("setup", "call", "teardown")
_KEY = pytest.StashKey["SdkRecorder"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sdk", "ExaWorks SDK harness")
    group.addoption("--sdk-records", default=None, help="append TestResult records to this JSONL file")
    group.addoption("--sdk-run-id", default=os.environ.get("SDK_RUN_ID"), help="run id for the records")
    group.addoption("--sdk-suite", default=None, help="suite name for the records")
    group.addoption("--sdk-requires", default="", help="comma-separated components every test needs")
    group.addoption("--sdk-detections", default=None,
                    help="JSON file of component detections; detected from the manifest when absent")
    group.addoption("--sdk-collected", default=None, help="write the collected test ids here, one a line")
    group.addoption("--sdk-known", default=None,
                    help="JSON file of the known incompatibilities that apply to this suite here; "
                         "worked out from the manifest when absent")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requires(*components): manifest components this test needs")
    reaper.become_subreaper()
    recorder = SdkRecorder(config)
    config.stash[_KEY] = recorder
    config.pluginmanager.register(recorder, "sdk-recorder")


def pytest_unconfigure(config: pytest.Config) -> None:
    recorder = config.stash.get(_KEY, None)
    if recorder is not None:
        recorder.close()
    left = reaper.end_descendants()
    if left:
        print(f"sdk harness: ended {len(left)} process(es) the suite left running:", file=sys.stderr)
        for proc in left:
            print(f"  {proc.pid} {proc.command[:200]}", file=sys.stderr)


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 40] + "\n[... truncated by the harness]"


class SdkRecorder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        path = config.getoption("--sdk-records")
        self.writer = RecordWriter(Path(path)) if path else None
        self.run_id = config.getoption("--sdk-run-id") or new_id()
        self.suite = config.getoption("--sdk-suite") or "adhoc"
        self.requires = [r for r in config.getoption("--sdk-requires").split(",") if r]
        self.pending: dict[str, dict[str, Any]] = {}
        self._detections: dict[str, dict[str, Any]] | None = None
        self._known: list[KnownEntry] | None = None

    # -- which components are here --------------------------------------------------------
    def detections(self, names: list[str]) -> dict[str, dict[str, Any]]:
        if self._detections is None:
            path = self.config.getoption("--sdk-detections")
            self._detections = json.loads(Path(path).read_text()) if path else {}
        missing = [n for n in names if n not in self._detections]
        if missing:  # run outside the harness: apply the manifest's rules here
            from exaworks_sdk.manifest import load_manifest
            from test_harness.detect import detect_all

            found = detect_all(load_manifest().components, missing)
            self._detections.update({k: v.to_dict() for k, v in found.items()})
        return self._detections

    def skip_reason(self, item: pytest.Item) -> str | None:
        names = list(self.requires)
        for mark in item.iter_markers("requires"):
            names += [n for n in mark.args if n not in names]
        if not names:
            return None
        found = self.detections(names)
        reasons = [found[n]["reason"] for n in names if not found[n]["found"]]
        return "; ".join(reasons) or None

    def known(self) -> list[KnownEntry]:
        if self._known is None:
            path = self.config.getoption("--sdk-known")
            if path:
                self._known = [KnownEntry.from_dict(d) for d in json.loads(Path(path).read_text())]
            else:  # run outside the harness: the manifest's entries for this suite, detected here
                from exaworks_sdk.manifest import load_manifest
                from test_harness.detect import detect_all
                from test_harness.known import applicable

                components = load_manifest().components
                names = [n for n, c in components.items()
                         if any(k.suite == self.suite for k in c.known_incompatibilities)]
                self._known = applicable(components, detect_all(components, names), self.suite)
        return self._known

    # -- records --------------------------------------------------------------------------
    def emit(self, test_id: str, status: Status, **fields: Any) -> None:
        if self.writer is None:
            return
        self.writer.write(test_result(run_id=self.run_id, suite=self.suite, test_id=test_id, status=status,
                                      **fields))

    def logreport(self, report: pytest.TestReport) -> None:
        entry = self.pending.setdefault(report.nodeid, {
            "started_at": datetime.fromtimestamp(report.start, UTC), "phases": {}, "output": []})
        entry["phases"][report.when] = report
        if report.failed:
            entry["output"].append(f"----- {report.when}: traceback -----\n{report.longreprtext}")
            for title, content in report.sections:
                entry["output"].append(f"----- {title} -----\n{content}")

    def finish(self, nodeid: str) -> None:
        entry = self.pending.pop(nodeid, None)
        if entry is None:
            return
        reports: dict[str, pytest.TestReport] = entry["phases"]
        phases: dict[str, dict[str, Any]] = {}
        for when in _WHEN:
            if when in reports:
                status, message = _phase_outcome(reports[when])
                phases[when] = phase(status, max(reports[when].duration, 0.0), _truncate(message))
        status, message = _overall(phases)
        output = "\n".join(entry["output"])
        if status is not Status.SKIPPED and self.known():
            status, message = classify(self.known(), nodeid.rsplit("::", 1)[-1], status, message, output)
        self.emit(nodeid, status, duration=sum(p["duration"] for p in phases.values()),
                  started_at=entry["started_at"], message=_truncate(message), phases=phases,
                  output=_truncate(output))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    # -- hooks (this object is registered as a plugin) -------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        # before fixtures and before the test's own skipif marks: a missing component is the reason
        reason = self.skip_reason(item)
        if reason:
            pytest.skip(reason)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        collected = self.config.getoption("--sdk-collected")
        if collected:
            Path(collected).write_text("".join(f"{item.nodeid}\n" for item in items), encoding="utf-8")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:  # a suite that cannot even be imported is an error, never an empty pass
            self.emit(report.nodeid or "collection", Status.ERROR,
                      message=_truncate("collection failed:\n" + report.longreprtext))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.logreport(report)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.finish(nodeid)


def _phase_outcome(report: pytest.TestReport) -> tuple[Status, str]:
    if hasattr(report, "wasxfail"):
        if report.skipped:
            return Status.SKIPPED, f"expected failure: {report.wasxfail}"
        if report.failed:  # strict xpass
            return Status.FAILED, f"unexpectedly passed: {report.wasxfail}"
    if report.passed:
        return Status.PASSED, ""
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        return Status.SKIPPED, reason.removeprefix("Skipped: ")
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else report.longreprtext
    return (Status.FAILED if report.when == "call" else Status.ERROR), message


def _overall(phases: dict[str, dict[str, Any]]) -> tuple[Status, str]:
    when = deciding_phase({name: p["status"] for name, p in phases.items()})
    if when is None:
        return Status.PASSED, ""
    return Status(phases[when]["status"]), ("teardown: " if when == "teardown" else "") + phases[when]["message"]


@pytest.fixture(autouse=True)
def _sdk_own_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test starts in its own empty directory (``rp.session.*`` and friends land there)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))  # some tools (RADICAL-Pilot) trust $PWD over getcwd()
    return tmp_path
