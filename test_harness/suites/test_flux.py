"""Flux: an instance from `flux start`, then submit, wait and status through the CLI and the
Python API, and, where flux-sched is installed, Fluxion scheduling the jobs. (The old SDK's
`flux mini` commands were removed from Flux in 2024.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_harness.suites.conftest import run
from test_harness.suites.flux_util import import_flux


def test_instance_has_resources(flux_instance: str) -> None:
    assert run(["flux", "version"]).stdout.count("libflux-core") == 1
    listing = run(["flux", "resource", "list"]).stdout
    assert "free" in listing, listing
    assert run(["flux", "getattr", "size"]).stdout.strip() == "1"


def test_cli_submit_wait_status(flux_instance: str, tmp_path: Path) -> None:
    ok = run(["flux", "submit", "--flags=waitable", "--cwd", str(tmp_path), "--output", "ok.out",
              "sh", "-c", "echo hello from flux"]).stdout.strip()
    bad = run(["flux", "submit", "--flags=waitable", "sh", "-c", "exit 3"]).stdout.strip()
    assert run(["flux", "job", "wait", ok], check=False).returncode == 0
    assert run(["flux", "job", "wait", bad], check=False).returncode != 0
    assert run(["flux", "job", "status", ok], check=False).returncode == 0
    assert run(["flux", "job", "status", bad], check=False).returncode == 3
    assert (tmp_path / "ok.out").read_text().strip() == "hello from flux"
    results = run(["flux", "jobs", "-a", "-n", "-o", "{id} {result}", ok, bad]).stdout
    assert "COMPLETED" in results and "FAILED" in results, results


def test_parallel_job_ranks(flux_instance: str) -> None:
    out = run(["flux", "run", "-n", "2", "sh", "-c", "echo rank=$FLUX_TASK_RANK"]).stdout
    assert sorted(out.split()) == ["rank=0", "rank=1"]


def test_python_api_submit_and_wait(flux_instance: str, tmp_path: Path) -> None:
    import_flux()
    import flux.job  # noqa: F811

    handle = flux.Flux()
    spec = flux.job.JobspecV1.from_command(["sh", "-c", "echo api > api.out"], num_tasks=1)
    spec.cwd = str(tmp_path)
    spec.environment = {"PATH": "/usr/bin:/bin"}
    jobid = flux.job.submit(handle, spec, waitable=True)
    result = flux.job.wait(handle, jobid)
    assert result.success, result.errstr
    assert (tmp_path / "api.out").read_text().strip() == "api"

    failing = flux.job.JobspecV1.from_command(["false"])
    failing.environment = {"PATH": "/usr/bin:/bin"}
    result = flux.job.wait(handle, flux.job.submit(handle, failing, waitable=True))
    assert not result.success


def test_flux_executor_futures(flux_instance: str) -> None:
    import_flux()
    import flux.job  # noqa: F811

    with flux.job.FluxExecutor() as executor:
        futures = [executor.submit(flux.job.JobspecV1.from_command(["sh", "-c", f"exit {code}"]))
                   for code in (0, 4)]
        assert [f.result(timeout=120) for f in futures] == [0, 4]


@pytest.mark.parametrize("count", [8])
def test_many_jobs_drain(flux_instance: str, count: int) -> None:
    ids = [run(["flux", "submit", "--flags=waitable", "true"]).stdout.strip() for _ in range(count)]
    assert run(["flux", "job", "wait", "--all"], check=False).returncode == 0, ids


@pytest.mark.requires("flux-sched")
def test_fluxion_schedules_the_jobs(flux_instance: str) -> None:
    """flux-sched was found, so Fluxion (not flux-core's sched-simple) must be the scheduler."""
    modules = run(["flux", "module", "list"]).stdout
    assert "sched-fluxion-qmanager" in modules and "sched-fluxion-resource" in modules, modules
    assert "sched-simple" not in modules, modules
    jobid = run(["flux", "submit", "--flags=waitable", "sleep", "30"]).stdout.strip()
    try:
        run(["flux", "job", "wait-event", "-t", "60", jobid, "alloc"])
        info = run(["flux", "ion-resource", "info", jobid]).stdout
        assert "ALLOCATED" in info, f"Fluxion holds no allocation for a running job: {info}"
    finally:
        run(["flux", "cancel", jobid], check=False)
        run(["flux", "job", "wait", jobid], check=False)
    logged = re.search(r"sched-fluxion-resource\.info\[0\]: version (\S+)", run(["flux", "dmesg"]).stdout)
    assert logged, "the Fluxion resource module logged no version"
