"""PSI/J's rp executor: PSI/J jobs become RADICAL-Pilot tasks on a local pilot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from test_harness.suites.rp_util import pilot_scope

WAIT = timedelta(seconds=240)


@pytest.fixture(scope="module")
def executor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from psij import JobExecutor, JobExecutorConfig

    with pilot_scope(tmp_path_factory.mktemp("psij-rp")):
        # psij-python 0.9.11's RPJobExecutor hands config=None to its base class, which asserts
        # on it; an explicit (empty) config works around that.
        ex = JobExecutor.get_instance("rp", config=JobExecutorConfig())
        try:
            yield ex
        finally:
            ex._session.close(terminate=True, download=False)  # type: ignore[attr-defined]  # no public close


def test_jobs_complete_with_output(executor: Any, tmp_path: Path) -> None:
    from psij import Job, JobSpec, JobState

    jobs = []
    for i in range(3):
        job = Job(JobSpec(executable="/bin/sh", arguments=["-c", f"echo job{i} > {tmp_path}/job{i}.txt"]))
        executor.submit(job)
        jobs.append(job)
    for i, job in enumerate(jobs):
        status = job.wait(timeout=WAIT)
        assert status is not None, f'{job} did not end within {WAIT} s'
        assert status is not None and status.state == JobState.COMPLETED, status
        assert (tmp_path / f"job{i}.txt").read_text().strip() == f"job{i}"


def test_failing_job_is_failed(executor: Any) -> None:
    from psij import Job, JobSpec, JobState

    job = Job(JobSpec(executable="/bin/sh", arguments=["-c", "exit 5"]))
    executor.submit(job)
    status = job.wait(timeout=WAIT)
    assert status is not None, f'{job} did not end within {WAIT} s'
    assert status.state == JobState.FAILED
    assert status.exit_code in (5, None), status  # RP reports the code; PSI/J may drop it
