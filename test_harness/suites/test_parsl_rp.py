"""Parsl's RadicalPilotExecutor. With radical.pilot 1.103 it fails (`a coroutine was expected`)
and hangs; with RP 1.90, the version parsl[radical-pilot] pins, it works. This suite is what
proves the SDK's pin.

RP's raptor workers (1.90 too) now and then lose a task to a race (test_harness/races.py); the
results are awaited with ``rp_util.result``, so such a test fails at once and says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from test_harness.suites.rp_util import pilot_sandbox, pilot_scope, result


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from parsl.config import Config
    from parsl.executors.radical import RadicalPilotExecutor, ResourceConfig

    from test_harness.suites import parsl_apps

    workdir = tmp_path_factory.mktemp("parsl-rp")
    with pilot_scope(workdir):
        config = Config(executors=[RadicalPilotExecutor(
            label="rpex", rpex_cfg=ResourceConfig(), resource="local.localhost", runtime=15, cores=2,
            working_dir=str(workdir))], run_dir=str(workdir / "runinfo"))
        with parsl_apps.loaded(config):
            yield parsl_apps


@pytest.fixture(scope="module")
def sandbox(apps) -> Path:
    """The sandbox of the executor's pilot: it says why a task did not come back."""
    import parsl
    from parsl.executors.radical import RadicalPilotExecutor

    executor = parsl.dfk().executors["rpex"]
    assert isinstance(executor, RadicalPilotExecutor)
    return pilot_sandbox(executor.pilot)


def test_python_apps_run_on_the_pilot(apps, sandbox) -> None:
    futures = [apps.double(i) for i in range(4)]
    assert [result(f, 240, sandbox) for f in futures] == [0, 2, 4, 6]


def test_dataflow_across_rp_tasks(apps, sandbox) -> None:
    assert result(apps.add(apps.double(3), apps.double(4)), 120, sandbox) == 14


def test_bash_app_on_the_pilot(apps, sandbox, tmp_path: Path) -> None:
    out = tmp_path / "rp.out"
    assert result(apps.shell(f"echo via-rp > {out}"), 120, sandbox) == 0
    assert out.read_text().strip() == "via-rp"


def test_app_exception_propagates(apps, sandbox) -> None:
    with pytest.raises(Exception, match="boom"):
        result(apps.fail_with("boom"), 120, sandbox)
