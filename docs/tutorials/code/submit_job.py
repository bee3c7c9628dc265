"""Submit a job with PSI/J's local executor, wait for it, and read its exit code and output."""

from datetime import timedelta
from pathlib import Path

from psij import Job, JobExecutor, JobSpec, JobState

workdir = Path("psij-tutorial").resolve()
workdir.mkdir(exist_ok=True)

# 1. Describe the job: what to run, where, and where its output goes.
spec = JobSpec(
    executable="/bin/echo",
    arguments=["hello from PSI/J"],
    directory=workdir,
    stdout_path=workdir / "hello.out",
    stderr_path=workdir / "hello.err",
)
job = Job(spec)

# 2. Submit it. "local" runs it on this machine; on a cluster use "slurm", "pbs", "lsf" or "flux".
executor = JobExecutor.get_instance("local")
executor.submit(job)
print(f"submitted job {job.native_id}")

# 3. Wait for a final state, then read the exit code and the output.
status = job.wait(timeout=timedelta(seconds=60))
assert status is not None
print(f"state: {status.state}, exit code: {status.exit_code}")
print(f"stdout: {(workdir / 'hello.out').read_text().strip()}")

# A failing job ends FAILED and carries its exit code.
failing = Job(JobSpec(executable="/bin/false", directory=workdir))
executor.submit(failing)
status = failing.wait(timeout=timedelta(seconds=60))
assert status is not None
print(f"failing job: state {status.state}, exit code {status.exit_code}")
assert status.state == JobState.FAILED
