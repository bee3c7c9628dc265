"""PSI/J's flux executor. It needs explicit process_count and cpu_cores_per_process, and reports
exit_code None (not 0) on success; the assertions allow for both."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from test_harness.suites.flux_util import import_flux

WAIT = timedelta(seconds=120)


@pytest.fixture(scope="module")
def executor(flux_instance: str) -> Any:
    import_flux()
    from psij import JobExecutor, JobExecutorConfig

    return JobExecutor.get_instance("flux", config=JobExecutorConfig())


def _spec(**kwargs: Any) -> Any:
    from psij import JobSpec, ResourceSpecV1

    return JobSpec(resources=ResourceSpecV1(process_count=1, cpu_cores_per_process=1), **kwargs)


def test_job_completes_with_output(executor: Any, tmp_path: Path) -> None:
    from psij import Job, JobState

    out = tmp_path / "out.txt"
    job = Job(_spec(executable="/bin/sh", arguments=["-c", "echo flux-psij"], stdout_path=out,
                    directory=tmp_path))
    executor.submit(job)
    status = job.wait(timeout=WAIT)
    assert status is not None, f'{job} did not end within {WAIT} s'
    assert status.state == JobState.COMPLETED, status
    assert status.exit_code in (0, None)
    assert out.read_text().strip() == "flux-psij"
    assert job.native_id is not None


def test_failing_job(executor: Any) -> None:
    from psij import Job, JobState

    job = Job(_spec(executable="/bin/sh", arguments=["-c", "exit 6"]))
    executor.submit(job)
    status = job.wait(timeout=WAIT)
    assert status is not None, f'{job} did not end within {WAIT} s'
    assert status.state == JobState.FAILED
    assert status.exit_code in (6, None)


def test_cancel(executor: Any) -> None:
    from psij import Job, JobState

    job = Job(_spec(executable="/bin/sleep", arguments=["300"]))
    executor.submit(job)
    job.wait(target_states=[JobState.ACTIVE], timeout=WAIT)
    job.cancel()
    status = job.wait(timeout=WAIT)
    assert status is not None and status.state == JobState.CANCELED, status
