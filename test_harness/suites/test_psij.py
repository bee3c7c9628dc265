"""PSI/J with the local executor: states, exit codes, cancel, stdio, environment, and the
mpirun launcher with 2 ranks (Debian's MPICH here; Open MPI as root needs OMPI_ALLOW_RUN_AS_ROOT*,
which the harness sets)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

WAIT = timedelta(seconds=60)


@pytest.fixture(scope="module")
def executor() -> Any:
    from psij import JobExecutor

    return JobExecutor.get_instance("local")


def _job(**spec: Any) -> Any:
    from psij import Job, JobSpec

    return Job(JobSpec(**spec))


def test_states_progress_to_completed(executor: Any, tmp_path: Path) -> None:
    from psij import JobState

    seen: list[JobState] = []
    job = _job(executable="/bin/true", directory=tmp_path)
    job.set_job_status_callback(lambda _job, status: seen.append(status.state))
    executor.submit(job)
    status = job.wait(timeout=WAIT)
    assert status is not None and status.state == JobState.COMPLETED
    assert status.exit_code == 0
    assert seen[-1] == JobState.COMPLETED
    assert JobState.ACTIVE in seen
    assert seen.index(JobState.ACTIVE) < seen.index(JobState.COMPLETED)
    assert job.native_id, "the local executor should report the process id"


def test_nonzero_exit_code_is_failed(executor: Any, tmp_path: Path) -> None:
    from psij import JobState

    job = _job(executable="/bin/sh", arguments=["-c", "exit 7"], directory=tmp_path)
    executor.submit(job)
    status = job.wait(timeout=WAIT)
    assert status.state == JobState.FAILED
    assert status.exit_code == 7


def test_stdout_stderr_and_environment(executor: Any, tmp_path: Path) -> None:
    from psij import JobState

    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    job = _job(executable="/bin/sh", arguments=["-c", 'echo "value=$SDK_PSIJ_VALUE"; echo oops >&2; pwd'],
               environment={"SDK_PSIJ_VALUE": "42"}, stdout_path=out, stderr_path=err, directory=tmp_path)
    executor.submit(job)
    assert job.wait(timeout=WAIT).state == JobState.COMPLETED
    lines = out.read_text().splitlines()
    assert lines[0] == "value=42"
    assert Path(lines[1]).resolve() == tmp_path.resolve(), "the job did not run in spec.directory"
    assert err.read_text().strip() == "oops"


def _wait_for(path: Path, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{what}: {path} did not appear within {timeout:.0f} s"
        time.sleep(0.05)


def test_cancel_running_job(executor: Any, tmp_path: Path) -> None:
    """Cancels a job whose own process is running. PSI/J reports ACTIVE as soon as its launcher
    script starts, before that script has started the job; a cancel in that window misses the
    job, which runs on and stalls the executor as in the next test. So this waits for the job."""
    from psij import JobState

    started = tmp_path / "started"
    job = _job(executable="/bin/sh", arguments=["-c", f"touch {started}; exec sleep 300"], directory=tmp_path)
    executor.submit(job)
    _wait_for(started, "the job to start")
    job.cancel()
    status = job.wait(timeout=WAIT)
    assert status is not None and status.state == JobState.CANCELED


def test_a_background_process_does_not_stall_other_jobs(executor: Any, tmp_path: Path) -> None:
    """A job may leave a process running in the background; other jobs must still be reported
    when they end. PSI/J 0.9.11's local executor reads each finished launcher's output to its end
    on its one status thread, and a process left behind keeps that output open."""
    from psij import JobState

    lingering = 10
    first = _job(executable="/bin/sh", arguments=["-c", f"sleep {lingering} & echo started"], directory=tmp_path)
    executor.submit(first)
    try:
        time.sleep(1)  # the first job's launcher has ended by now
        second = _job(executable="/bin/true", directory=tmp_path)
        executor.submit(second)
        status = second.wait(timeout=timedelta(seconds=5))
        assert status is not None, (
            f"a job left running in the background stalls every other job's status for its {lingering} s")
        assert status.state == JobState.COMPLETED
    finally:
        first.wait(timeout=timedelta(seconds=lingering + 30))  # the executor is free again for the next test


def test_many_jobs_complete(executor: Any, tmp_path: Path) -> None:
    from psij import JobState

    jobs = []
    for i in range(20):
        job = _job(executable="/bin/sh", arguments=["-c", f"echo {i}"], stdout_path=tmp_path / f"{i}.out",
                   directory=tmp_path)
        executor.submit(job)
        jobs.append(job)
    for i, job in enumerate(jobs):
        status = job.wait(timeout=WAIT)
        assert status is not None, f"job {i} did not end within {WAIT.seconds} s"
        assert status.state == JobState.COMPLETED
        assert (tmp_path / f"{i}.out").read_text().strip() == str(i)


@pytest.mark.requires("mpi")
def test_mpirun_launcher_two_ranks(executor: Any, tmp_path: Path) -> None:
    from psij import JobState, ResourceSpecV1

    out, err = tmp_path / "mpi.out", tmp_path / "mpi.err"
    script = 'echo "rank=${PMI_RANK:-${OMPI_COMM_WORLD_RANK:-?}} size=${PMI_SIZE:-${OMPI_COMM_WORLD_SIZE:-?}}"'
    job = _job(executable="/bin/sh", arguments=["-c", script], launcher="mpirun",
               resources=ResourceSpecV1(process_count=2), stdout_path=out, stderr_path=err, directory=tmp_path)
    executor.submit(job)
    status = job.wait(timeout=WAIT)
    stderr = err.read_text() if err.exists() else ""
    assert status is not None and status.state == JobState.COMPLETED, f"{status}; stderr: {stderr}"
    ranks = sorted(re.findall(r"rank=(\S+) size=(\S+)", out.read_text()))
    assert ranks == [("0", "2"), ("1", "2")], out.read_text()
