"""Parsl's RadicalPilotExecutor. With radical.pilot 1.103 it fails (`a coroutine was expected`)
and hangs; with RP 1.90, the version parsl[radical-pilot] pins, it works. This suite is what
proves the SDK's pin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from test_harness.suites.rp_util import pilot_scope


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


def test_python_apps_run_on_the_pilot(apps) -> None:
    futures = [apps.double(i) for i in range(4)]
    assert [f.result(timeout=240) for f in futures] == [0, 2, 4, 6]


def test_dataflow_across_rp_tasks(apps) -> None:
    assert apps.add(apps.double(3), apps.double(4)).result(timeout=120) == 14


def test_bash_app_on_the_pilot(apps, tmp_path: Path) -> None:
    out = tmp_path / "rp.out"
    assert apps.shell(f"echo via-rp > {out}").result(timeout=120) == 0
    assert out.read_text().strip() == "via-rp"


def test_app_exception_propagates(apps) -> None:
    with pytest.raises(Exception, match="boom"):
        apps.fail_with("boom").result(timeout=120)
