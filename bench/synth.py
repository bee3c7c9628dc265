"""Synthetic result history: sites × variants × suites × tests, runs over days.

One ``SynthRun`` is what one site's pipeline job produces for one install variant: a
``run_start``, one ``test_result`` per test of every suite it runs, and a ``run_finish``.
The same object feeds both the bulk loader (``bench.generate``) and real HTTP uploads
(``bench.ingest``, ``bench.verify``), so the two paths store the same history.

Everything is deterministic for a given ``Spec`` (seeded ``random.Random``); record ids are
derived from the seed, so re-generating a day yields the same ids.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

FACILITY_MACHINES = [
    ("llnl", "dane", "slurm"), ("llnl", "tioga", "flux"), ("llnl", "lassen", "lsf"),
    ("nersc", "perlmutter", "slurm"), ("olcf", "frontier", "slurm"), ("olcf", "andes", "slurm"),
    ("anl", "polaris", "pbs"), ("anl", "aurora", "pbs"), ("sdsc", "expanse", "slurm"),
    ("tacc", "frontera", "slurm"), ("tacc", "stampede3", "slurm"), ("ncsa", "delta", "slurm"),
    ("pnnl", "deception", "slurm"), ("bnl", "institutional", "slurm"), ("local", "linux", "none"),
]
SUITES = [
    "parsl", "psij", "radical-pilot", "entk", "maestro", "mpi", "libensemble", "flux", "swift-t",
    "balsam", "parsl-flux", "psij-flux", "parsl-rp", "psij-rp", "rp-flux", "swift-t-in-flux",
]
VARIANTS = ["spack", "pip", "container"]
STEM = ["submit", "states", "cancel", "exit_code", "stdout", "environment", "mpirun", "dataflow",
        "retry", "timeout", "staging", "pipeline", "scaling", "resources", "callbacks", "cleanup"]
# Each component's releases, oldest first: a site runs the newest one of its epoch (one release
# further back every RELEASE_DAYS days of history), a lagging site one release behind, and the
# Spack variant one more (pinned older), so the compatibility matrix has several version sets
# per suite both in one day of history and across months of it.
RELEASES = {
    "parsl": ["2026.2.16", "2026.6.1", "2026.8.3", "2026.10.26"],
    "psij-python": ["0.9.8", "0.9.9", "0.9.10", "0.9.11"],
    "radical-pilot": ["1.86.0", "1.88.0", "1.90.0", "1.92.0"],
    "radical-entk": ["1.86.0", "1.88.0", "1.90.0", "1.92.0"],
    "flux-core": ["0.78.0", "0.79.0", "0.80.0", "0.81.0"],
    "maestrowf": ["1.1.8", "1.1.9", "1.2.0", "1.2.1"],
    "mpi4py": ["3.1.6", "4.0.3", "4.1.1", "4.1.2"],
    "libensemble": ["1.3.0", "1.4.3", "1.5.0", "1.6.1"],
    "swift-t": ["1.6.3", "1.6.4", "1.6.5", "1.6.6"],
    "balsam": ["0.7.0a21", "0.7.0a22", "0.7.0a23", "0.7.0a24"],
    "mpi": ["openmpi-4.1.5", "openmpi-4.1.6", "openmpi-5.0.3", "openmpi-5.0.5"],
}
RELEASE_DAYS = 60
TIMEOUT = (  # a failure shared by tests of several suites (a scheduler that never starts the job)
    "TimeoutError: job did not reach ACTIVE within 600 s\n"
    "Traceback (most recent call last):\n"
    '  File "/opt/sdk/harness/jobs.py", line {line}, in wait_active\n'
    "    raise TimeoutError(f'job did not reach ACTIVE within {{limit}} s')\n"
    "TimeoutError: job did not reach ACTIVE within 600 s (job {code})\n"
)
TRACEBACK = (
    "{test} failed\n"
    "Traceback (most recent call last):\n"
    '  File "/opt/sdk/tests/{suite}.py", line {line}, in {test}\n'
    "    assert job.status.state == JobState.COMPLETED\n"
    "\x1b[31mAssertionError: expected COMPLETED, got FAILED (exit code {code})\x1b[0m\n"
)


def _ts(value: datetime) -> str:
    """Timestamps as pydantic writes them (whole seconds, UTC, 'Z')."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Spec:
    """The shape of a history. ``days`` × ``runs_per_day`` runs per (site, variant)."""

    sites: int = 12
    suites: int = 10
    days: int = 1
    runs_per_day: int = 2
    max_variants: int = 3
    tests_per_suite: tuple[int, int] = (3, 9)
    flaky_fraction: float = 0.05  # of (site, variant, test) triples: fail ~35 % of runs
    fail_rate: float = 0.003  # any other test
    log_bytes: int = 2000  # output stored on failures
    seed: int = 1
    end: datetime = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    release_days: int = RELEASE_DAYS  # each component's next release is this many days later

    def site_rows(self) -> list[dict[str, Any]]:
        rows = []
        for i in range(self.sites):
            facility, machine, scheduler = FACILITY_MACHINES[i % len(FACILITY_MACHINES)]
            if i >= len(FACILITY_MACHINES):
                machine = f"{machine}{i // len(FACILITY_MACHINES) + 1}"
            rows.append({"name": f"{facility}-{machine}", "facility": facility.upper(), "machine": machine,
                         "scheduler": scheduler, "expected_interval_hours": 24.0 / self.runs_per_day * 2})
        return rows

    def suite_names(self) -> list[str]:
        return [SUITES[i] if i < len(SUITES) else f"extra-{i:02d}" for i in range(self.suites)]


@dataclass
class Matrix:
    """The fixed part of a history: which (site, variant) runs which tests, and which are flaky."""

    spec: Spec
    rows: list[tuple[str, str]] = field(default_factory=list)  # (site, variant)
    tests: dict[str, list[str]] = field(default_factory=dict)  # suite -> test ids
    flaky: set[tuple[str, str, str]] = field(default_factory=set)

    @classmethod
    def build(cls, spec: Spec) -> Matrix:
        rng = random.Random(spec.seed)
        matrix = cls(spec)
        for site in spec.site_rows():
            count = rng.randint(1, spec.max_variants)
            for variant in VARIANTS[:count]:
                matrix.rows.append((site["name"], variant))
        for suite in spec.suite_names():
            n = rng.randint(*spec.tests_per_suite)
            module = "test_" + suite.replace("-", "_")
            matrix.tests[suite] = [f"{module}.py::test_{STEM[(k * 7 + len(suite)) % len(STEM)]}_{k}"
                                   for k in range(n)]
        for site, variant in matrix.rows:
            for suite, ids in matrix.tests.items():
                for test in ids:
                    if rng.random() < spec.flaky_fraction:
                        matrix.flaky.add((f"{site}/{variant}", suite, test))
        return matrix

    @property
    def results_per_round(self) -> int:
        """Test results stored when every (site, variant) runs once."""
        return len(self.rows) * sum(len(ids) for ids in self.tests.values())


def days_for(spec: Spec, results: int) -> Spec:
    """The spec with enough days to hold about ``results`` test results."""
    per_day = Matrix.build(spec).results_per_round * spec.runs_per_day
    return Spec(**{**spec.__dict__, "days": max(1, round(results / per_day))})


@dataclass
class SynthTest:
    record_id: str
    suite: str
    test_id: str
    status: str
    duration: float
    started_at: datetime
    message: str
    output: str


@dataclass
class SynthRun:
    site: str
    variant: str
    run_id: str
    start_record_id: str
    finish_record_id: str
    started_at: datetime
    finished_at: datetime
    pipeline_id: str
    branch: str
    commit: str
    hostname: str
    sdk_version: str
    components: dict[str, str | None]
    environment: dict[str, Any]
    tests: list[SynthTest]

    @property
    def status(self) -> str:
        statuses = {t.status for t in self.tests}
        for status in ("error", "failed"):
            if status in statuses:
                return status
        return "skipped" if statuses == {"skipped"} else "passed"

    @property
    def exit_code(self) -> int:
        return 1 if self.status in ("failed", "error") else 0

    # -- the records a harness would upload (exactly what pydantic's to_dict() gives) --------
    def start_record(self) -> dict[str, Any]:
        return {"branch": self.branch, "commit": self.commit, "components": self.components,
                "environment": self.environment, "hostname": self.hostname, "id": self.start_record_id,
                "pipeline_id": self.pipeline_id, "run_id": self.run_id, "schema_version": 1,
                "sdk_version": self.sdk_version, "site": self.site, "started_at": _ts(self.started_at),
                "type": "run_start", "variant": self.variant}

    def test_record(self, test: SynthTest) -> dict[str, Any]:
        return {"duration": test.duration, "id": test.record_id, "message": test.message,
                "output": test.output, "phases": phases(test), "run_id": self.run_id, "schema_version": 1,
                "started_at": _ts(test.started_at), "status": test.status, "suite": test.suite,
                "test_id": test.test_id, "type": "test_result"}

    def finish_record(self) -> dict[str, Any]:
        counts = {s: 0 for s in ("passed", "failed", "skipped", "error")}
        for test in self.tests:
            counts[test.status] += 1
        return {"counts": counts, "exit_code": self.exit_code, "finished_at": _ts(self.finished_at),
                "id": self.finish_record_id, "run_id": self.run_id, "schema_version": 1,
                "status": self.status, "type": "run_finish"}

    def records(self) -> list[dict[str, Any]]:
        return [self.start_record(), *(self.test_record(t) for t in self.tests), self.finish_record()]


def phases(test: SynthTest) -> dict[str, Any]:
    """setup/call phases as the harness plugin reports them (keys in the model's order)."""
    setup = {"status": "passed", "duration": 0.01, "message": ""}
    if test.status in ("error", "skipped"):
        return {"setup": {**setup, "status": test.status, "message": test.message}}
    call = {"status": test.status, "duration": round(max(test.duration - 0.01, 0.0), 3), "message": test.message}
    return {"setup": setup, "call": call}


def content_hash(record: dict[str, Any]) -> str:
    """The dashboard's ledger hash of a record (``dashboard_server.ingest.store.record_hash``)."""
    from dashboard_server.ingest.store import record_hash

    return record_hash(record)


def hash_of(*parts: str) -> int:
    """A stable small hash (``hash()`` of a str changes between processes)."""
    return int(hashlib.sha256("\t".join(parts).encode()).hexdigest()[:8], 16)


def _uid(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def runs(matrix: Matrix, first_day: int = 0, last_day: int | None = None) -> Iterator[SynthRun]:
    """Runs for days ``first_day``..``last_day`` counted back from ``spec.end`` (day 0 = newest),
    newest day first within the range; each day seeds its own generator."""
    spec = matrix.spec
    last = spec.days - 1 if last_day is None else last_day
    for day in range(first_day, last + 1):
        rng = random.Random(spec.seed * 1_000_003 + day)
        yield from _day(matrix, day, rng)


def components(site: str, variant: str, day: int, release_days: int = RELEASE_DAYS) -> dict[str, str | None]:
    """The versions a (site, variant) installed ``day`` days before the newest day."""
    lag = day // release_days + (1 if hash_of(site) % 3 == 0 else 0)
    lag += 1 if variant == "spack" else 0
    out: dict[str, str | None] = {c: versions[max(0, len(versions) - 1 - lag)] for c, versions in RELEASES.items()}
    if variant == "pip":
        out["flux-core"] = None  # not pip-installable
    return out


def _day(matrix: Matrix, day: int, rng: random.Random) -> Iterator[SynthRun]:
    spec = matrix.spec
    base = spec.end - timedelta(days=day)
    step = timedelta(hours=24 / spec.runs_per_day)
    for slot in range(spec.runs_per_day):
        for row, (site, variant) in enumerate(matrix.rows):
            started = base + slot * step + timedelta(minutes=row % 50, seconds=row)
            pipeline = 900_000 - day * spec.runs_per_day + slot
            yield _run(matrix, site, variant, started, pipeline, rng, components(site, variant, day, spec.release_days))


def _run(matrix: Matrix, site: str, variant: str, started: datetime, pipeline: int,
         rng: random.Random, versions: dict[str, str | None]) -> SynthRun:
    spec = matrix.spec
    run_id = _uid(rng)
    clock = started + timedelta(seconds=20)
    tests: list[SynthTest] = []
    row = f"{site}/{variant}"
    for suite, ids in matrix.tests.items():
        broken = rng.random() < 0.002  # the whole suite errors (e.g. a pilot that never starts)
        skipped = suite.endswith("-flux") and site.endswith("dane")  # not runnable there
        for test_id in ids:
            if skipped:
                status = "skipped"
            elif broken:
                status = "error"
            elif (row, suite, test_id) in matrix.flaky:
                status = "failed" if rng.random() < 0.35 else "passed"
            else:
                status = "failed" if rng.random() < spec.fail_rate else "passed"
            duration = 0.0 if status == "skipped" else round(rng.uniform(0.05, 30.0), 3)
            message, output = "", ""
            if status == "skipped":
                message = f"{suite} is not available at {site}"
            elif status in ("failed", "error"):
                code = rng.randint(1, 255)
                message = f"AssertionError: expected COMPLETED, got FAILED (exit code {code})"
                shape = TIMEOUT if (hash_of(row, suite, test_id) % 4 == 0) else TRACEBACK
                text = shape.format(test=test_id, suite=suite, line=rng.randint(10, 400), code=code)
                if shape is TIMEOUT:
                    message = f"TimeoutError: job did not reach ACTIVE within 600 s (job {code})"
                output = (text * (spec.log_bytes // len(text) + 1))[: spec.log_bytes]
            tests.append(SynthTest(_uid(rng), suite, test_id, status, duration, clock, message, output))
            clock += timedelta(seconds=int(duration) + 1)
    return SynthRun(
        site=site, variant=variant, run_id=run_id, start_record_id=_uid(rng), finish_record_id=_uid(rng),
        started_at=started, finished_at=clock + timedelta(seconds=5), pipeline_id=str(pipeline),
        branch="main", commit=f"{pipeline * 2654435761 % 2**32:08x}", hostname=f"{site.split('-', 1)[-1]}-login1",
        sdk_version="2026.11",
        components=versions,
        environment={"python": "3.11.7", "scheduler": "slurm", "mpi": versions["mpi"], "nodes": 1},
        tests=tests,
    )
