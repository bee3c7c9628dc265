"""Run selected suites, each in its own pytest subprocess, into one record file.

The parent is the only writer of the run's JSON Lines file: it writes ``RunStart``,
copies each suite's ``TestResult`` lines as they appear (live progress), writes error
records for suites that were killed or crashed, and ``RunFinish`` last. A harness that
is itself killed leaves a file without ``RunFinish``: an unfinished run.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exaworks_sdk import status as rule
from exaworks_sdk.manifest import Component
from exaworks_sdk.records import MAX_NAME, MAX_TEXT, RecordWriter, RunFinish, RunStart, TestResult, new_id, parse_record, utcnow
from exaworks_sdk.status import Status
from test_harness import known, races, reaper
from test_harness import sandbox as sandboxes
from test_harness.detect import Detection, missing_reason
from test_harness.known import KnownEntry
from test_harness.suite import Suite

PYTEST_INI = Path(__file__).parent / "suites" / "pytest.ini"
DEFAULT_TIMEOUT = 300  # for a suite whose components are not in the manifest (it will skip)
KILL_GRACE = 10.0
# How often a running suite's new records are copied (live progress). Never a delay on the
# critical path: a suite's exit wakes the runner at once (see _Exits).
POLL = 0.2

Listener = Callable[[str, Suite, object], None]  # (event, suite, payload)


def suite_timeout(suite: Suite, components: Mapping[str, Component], factor: float = 1.0) -> float:
    """The longest ``suite_timeout`` among the suite's components, scaled by ``factor``."""
    limits = [components[r].suite_timeout for r in suite.requires if r in components]
    return max(limits, default=DEFAULT_TIMEOUT) * factor


@dataclass
class SuiteOutcome:
    suite: Suite
    timeout: float
    counts: Counter[Status] = field(default_factory=Counter)
    duration: float = 0.0
    returncode: int | None = None
    timed_out: bool = False
    skip_reason: str | None = None
    messages: list[str] = field(default_factory=list)  # skip reasons / errors, for the summary
    log: Path | None = None

    @property
    def status(self) -> Status:
        return Status(rule.run_status(self.counts, finished=True))


@dataclass
class RunResult:
    run_id: str
    records: Path
    outcomes: list[SuiteOutcome]
    status: Status
    exit_code: int

    @property
    def counts(self) -> Counter[Status]:
        total: Counter[Status] = Counter()
        for outcome in self.outcomes:
            total.update(outcome.counts)
        return total


class _Running:
    """One suite's subprocess and the part of its record file already copied."""

    def __init__(self, suite: Suite, outcome: SuiteOutcome, workdir: Path, log_dir: Path, run_id: str,
                 detections_file: Path, known_entries: list[KnownEntry], keep: bool) -> None:
        self.suite, self.outcome, self.keep = suite, outcome, keep
        self.sandbox = workdir / suite.name
        self.part = workdir / f"{suite.name}.records.jsonl"
        self.collected_file = workdir / f"{suite.name}.collected"
        known_file = workdir / f"{suite.name}.known.json"
        known_file.write_text(json.dumps([k.to_dict() for k in known_entries]), encoding="utf-8")
        self.log_path = log_dir / f"{suite.name}.log"
        self.offset = 0
        self.reported: set[str] = set()
        env = sandboxes.suite_environment(self.sandbox)
        env["SDK_RUN_ID"] = run_id
        command = [
            sys.executable, "-m", "pytest", str(suite.path),
            "-c", str(PYTEST_INI), "--rootdir", str(suite.path.parent),
            "-p", "test_harness.plugin", "--basetemp", str(self.sandbox / "pytest"),
            "--sdk-records", str(self.part), "--sdk-run-id", run_id, "--sdk-suite", suite.name,
            "--sdk-requires", ",".join(suite.requires), "--sdk-detections", str(detections_file),
            "--sdk-collected", str(self.collected_file), "--sdk-known", str(known_file), "-v",
        ]
        self.log = self.log_path.open("w", encoding="utf-8")
        self.started = time.monotonic()
        self.deadline = self.started + outcome.timeout
        self.proc = subprocess.Popen(command, cwd=self.sandbox, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)  # its own group: a kill reaches workers too
        outcome.log = self.log_path

    def new_records(self, run_id: str) -> list[TestResult]:
        """Complete lines appended since the last call (a half-written last line waits), each
        validated here: the suite's plugin writes them without pydantic."""
        try:
            with self.part.open("rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        records = []
        for line in data[:end].decode("utf-8", errors="replace").splitlines():
            if line.strip():
                record = self._parse(line, run_id)
                if isinstance(record, TestResult):
                    self.reported.add(record.test_id)
                    records.append(record)
        return records

    def _parse(self, line: str, run_id: str) -> RunStart | TestResult | RunFinish:
        """One line of the suite's part file; a line that is not a valid record becomes an error
        record for its test (or the suite), never a crash of the harness or a silent loss."""
        data: object = None
        try:
            data = json.loads(line)
            return parse_record(data)  # type: ignore[arg-type]  # not a dict: a ValidationError
        except ValueError as exc:  # not JSON, or pydantic's ValidationError (a ValueError too)
            test_id = data.get("test_id") if isinstance(data, dict) else None
            name = str(test_id)[:MAX_NAME] if test_id else f"{self.suite.path.name}::<suite>"
            return TestResult(id=new_id(), run_id=run_id, suite=self.suite.name, test_id=name, status=Status.ERROR,
                              started_at=utcnow(), message=f"the suite wrote an invalid record: {exc}"[:2000],
                              output=line[:MAX_TEXT])

    def collected(self) -> list[str]:
        if not self.collected_file.exists():
            return []
        return [line for line in self.collected_file.read_text(encoding="utf-8").splitlines() if line]

    def kill(self) -> None:
        """SIGTERM the whole process group, then SIGKILL whatever is left in it."""
        _signal_group(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=KILL_GRACE)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(self.proc.pid, signal.SIGKILL)  # stragglers outlive a leader that obeyed
        self.proc.wait()

    def close(self) -> None:
        self.log.close()
        self.outcome.duration = time.monotonic() - self.started
        if not self.keep:
            sandboxes.remove(self.sandbox)


class Runner:
    def __init__(self, components: Mapping[str, Component], detections: Mapping[str, Detection],
                 *, jobs: int = 2, timeout_factor: float = 1.0, workdir: Path | None = None,
                 keep_sandboxes: bool = False, listener: Listener | None = None, reap: bool = False) -> None:
        self.components = components
        self.detections = detections
        self.jobs = max(1, jobs)
        self.timeout_factor = timeout_factor
        self.workdir = workdir
        self.keep = keep_sandboxes
        self.listener = listener or (lambda event, suite, payload: None)
        # ``sdk-test run`` passes reap=True: the harness becomes a child subreaper, and when a suite
        # process ends, whatever it left orphaned (it was killed, or crashed before its own clean-up)
        # is ended too. Off by default: a test process calling Runner keeps its own children.
        self.reap = reap and reaper.become_subreaper()

    def run(self, suites: Sequence[Suite], records_path: Path, run_start: RunStart) -> RunResult:
        run_id = run_start.run_id
        workdir = self.workdir or Path(tempfile.mkdtemp(prefix="sdk-"))
        workdir.mkdir(parents=True, exist_ok=True)
        log_dir = records_path.parent / f"{records_path.stem}.logs"  # kept: CI saves it as an artifact
        log_dir.mkdir(parents=True, exist_ok=True)
        detections_file = workdir / "detections.json"
        detections_file.write_text(json.dumps({k: v.to_dict() for k, v in self.detections.items()}))
        outcomes = {s.name: SuiteOutcome(s, suite_timeout(s, self.components, self.timeout_factor),
                                         skip_reason=missing_reason(s.requires, self.detections))
                    for s in suites}
        ours_before = frozenset(p.pid for p in reaper.descendants()) if self.reap else frozenset()
        with RecordWriter(records_path) as writer:
            writer.write(run_start)
            pending = list(suites)
            running: dict[str, _Running] = {}
            exits = _Exits()
            try:
                while pending or running:
                    for job in self._start_some(pending, running, outcomes, workdir, log_dir, run_id,
                                                detections_file):
                        exits.watch(job.proc.pid)
                    finished = False
                    for name in list(running):
                        if self._poll(running[name], writer, run_id):
                            job = running.pop(name)
                            exits.forget(job.proc.pid)
                            job.close()
                            self._end_orphans(ours_before | {job.proc.pid for job in running.values()})
                            self.listener("suite_finish", outcomes[name].suite, outcomes[name])
                            finished = True
                    if running and not finished:  # a finished suite may free a slot: start the next at once
                        next_deadline = min(job.deadline for job in running.values())
                        exits.wait(max(0.0, min(POLL, next_deadline - time.monotonic())))
            finally:
                exits.close()
                for job in running.values():  # interrupted (Ctrl-C): leave no orphans behind
                    job.kill()
                    job.close()
                self._end_orphans(ours_before)
                if not self.keep and self.workdir is None:
                    sandboxes.remove(workdir)
            counts: Counter[Status] = Counter()
            for outcome in outcomes.values():
                counts.update(outcome.counts)
            status = Status(rule.run_status(counts, finished=True))
            exit_code = rule.exit_code(status)
            writer.write(RunFinish(id=new_id(), run_id=run_id, finished_at=utcnow(), status=status,
                                   exit_code=exit_code, counts={s: counts.get(s, 0) for s in Status}))
        return RunResult(run_id, records_path, [outcomes[s.name] for s in suites], status, exit_code)

    def _end_orphans(self, keep: frozenset[int] | set[int]) -> None:
        """End what finished suites left re-parented to the harness (``keep`` and theirs are spared)."""
        if self.reap:
            reaper.end_descendants(keep=frozenset(keep))

    def _start_some(self, pending: list[Suite], running: dict[str, _Running],
                    outcomes: dict[str, SuiteOutcome], workdir: Path, log_dir: Path, run_id: str,
                    detections_file: Path) -> list[_Running]:
        started = []
        while len(running) < self.jobs:
            busy = {job.suite.serial for job in running.values() if job.suite.serial}
            startable = next((s for s in pending if s.serial is None or s.serial not in busy), None)
            if startable is None:
                break
            pending.remove(startable)
            job = _Running(startable, outcomes[startable.name], workdir, log_dir, run_id, detections_file,
                           known.applicable(self.components, self.detections, startable.name), self.keep)
            running[startable.name] = job
            started.append(job)
            self.listener("suite_start", startable, outcomes[startable.name])
        return started

    def _copy(self, job: _Running, writer: RecordWriter, run_id: str) -> None:
        for record in job.new_records(run_id):
            writer.write(record)
            job.outcome.counts[record.status] += 1
            if record.status is Status.SKIPPED and record.message not in job.outcome.messages:
                job.outcome.messages.append(record.message)
            self.listener("test", job.suite, record)

    def _poll(self, job: _Running, writer: RecordWriter, run_id: str) -> bool:
        """Copy new records; return True once the suite has finished (or was killed)."""
        self._copy(job, writer, run_id)
        returncode = job.proc.poll()
        if returncode is None and time.monotonic() < job.deadline:
            return False
        if returncode is None:
            job.outcome.timed_out = True
            job.kill()
            self._copy(job, writer, run_id)
            comps = ", ".join(r for r in job.suite.requires if r in self.components) or "default"
            why = (f"suite {job.suite.name} killed after {job.outcome.timeout:.0f} s (suite_timeout from the "
                   f"manifest: {comps})")
            race = races.explain(races.find(job.sandbox))  # a task lost to a known race hangs its suite
            self._error_unreported(job, writer, run_id, f"{why}\n{race}" if race else why)
        else:
            self._copy(job, writer, run_id)
            job.outcome.returncode = returncode
            unreported = [t for t in job.collected() if t not in job.reported]
            if returncode not in (0, 1) or not job.reported or unreported:
                self._error_unreported(job, writer, run_id, f"pytest exited with code {returncode} "
                                       f"({_PYTEST_EXIT.get(returncode, 'crashed')})")
        job.outcome.returncode = job.proc.returncode
        return True

    def _error_unreported(self, job: _Running, writer: RecordWriter, run_id: str, why: str) -> None:
        """Tests that never reported are errors: a hung or crashed suite must not look green."""
        tail = _tail(job.log_path)
        missing = [t for t in job.collected() if t not in job.reported] or (
            [] if job.reported else [f"{job.suite.path.name}::<suite>"])
        for test_id in missing:
            record = TestResult(id=new_id(), run_id=run_id, suite=job.suite.name, test_id=test_id,
                                status=Status.ERROR, message=why, output=tail, started_at=utcnow())
            writer.write(record)
            job.outcome.counts[Status.ERROR] += 1
            self.listener("test", job.suite, record)
        job.outcome.messages.append(why)


class _Exits:
    """Wakes the runner the moment a suite's process ends: a pidfd per process (Linux 5.3 and later),
    readable once it has exited. Where there is none, waiting is sleeping the timeout out."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._fds: dict[int, int] = {}

    def watch(self, pid: int) -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            return
        self._fds[pid] = fd
        self._selector.register(fd, selectors.EVENT_READ)

    def forget(self, pid: int) -> None:
        fd = self._fds.pop(pid, None)
        if fd is not None:
            self._selector.unregister(fd)
            os.close(fd)

    def wait(self, timeout: float) -> None:
        if self._fds:
            self._selector.select(timeout)
        else:
            time.sleep(timeout)

    def close(self) -> None:
        for pid in list(self._fds):
            self.forget(pid)
        self._selector.close()


_PYTEST_EXIT = {0: "ok", 1: "tests failed", 2: "interrupted", 3: "internal error", 4: "usage error",
                5: "no tests collected"}


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path, limit: int = 20_000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", errors="replace")
