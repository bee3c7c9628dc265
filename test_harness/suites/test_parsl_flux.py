"""Parsl's FluxExecutor: Parsl starts its own Flux instance through the provider and runs
apps as Flux jobs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from test_harness import reaper
from test_harness.suites.flux_util import import_flux


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    import_flux()  # Parsl's flux instance manager imports flux in a child: exports PYTHONPATH
    from parsl.config import Config
    from parsl.executors import FluxExecutor
    from parsl.providers import LocalProvider

    from test_harness.suites import parsl_apps

    run_dir = tmp_path_factory.mktemp("parsl-flux")
    config = Config(executors=[FluxExecutor(label="flux", provider=LocalProvider(init_blocks=1, max_blocks=1),
                                            working_dir=str(run_dir / "work"))],
                    run_dir=str(run_dir / "runinfo"))
    with reaper.ends_what_it_starts(), parsl_apps.loaded(config):  # Parsl leaves its Flux block running
        yield parsl_apps


def test_python_apps_as_flux_jobs(apps) -> None:
    assert [f.result(timeout=240) for f in [apps.double(i) for i in range(3)]] == [0, 2, 4]


def test_dataflow(apps) -> None:
    assert apps.add(apps.double(2), apps.double(5)).result(timeout=120) == 14


def test_bash_app_exit_code(apps) -> None:
    from parsl.app.errors import BashExitFailure

    assert apps.shell("true").result(timeout=120) == 0
    with pytest.raises(BashExitFailure):
        apps.shell("exit 2").result(timeout=120)
