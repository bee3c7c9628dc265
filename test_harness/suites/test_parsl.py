"""Parsl: python_app, bash_app and dataflow on a HighThroughputExecutor with a LocalProvider.

One DataFlowKernel for the whole module: HTEX worker start-up is most of the ~9 s.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def apps(dfk: object):
    from test_harness.suites import parsl_apps  # importable by HTEX workers too

    return parsl_apps


@pytest.fixture(scope="module")
def dfk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider

    run_dir = tmp_path_factory.mktemp("parsl-runinfo")
    config = Config(
        executors=[HighThroughputExecutor(
            label="htex_local", max_workers_per_node=2, cores_per_worker=1,
            provider=LocalProvider(init_blocks=1, min_blocks=0, max_blocks=1),
        )],
        run_dir=str(run_dir), strategy="none",
    )
    from test_harness.suites.parsl_apps import loaded

    with loaded(config) as kernel:
        yield kernel
    assert any(run_dir.iterdir()), "Parsl wrote nothing to its run_dir: the config was not used"


def test_python_app_runs_in_a_worker_process(apps) -> None:
    assert apps.double(21).result(timeout=120) == 42
    assert apps.pid().result(timeout=60) != os.getpid()


def test_python_app_exception_propagates(apps) -> None:
    future = apps.fail_with("boom")
    with pytest.raises(ValueError, match="boom"):
        future.result(timeout=60)


def test_bash_app_writes_stdout(apps, tmp_path: Path) -> None:
    out = tmp_path / "hello.out"
    assert apps.shell("echo hello from bash_app", stdout=str(out)).result(timeout=60) == 0
    assert out.read_text().strip() == "hello from bash_app"


def test_bash_app_nonzero_exit_is_an_error(apps) -> None:
    from parsl.app.errors import BashExitFailure

    with pytest.raises(BashExitFailure) as info:
        apps.shell("exit 3").result(timeout=60)
    assert info.value.exitcode == 3


def test_dataflow_dependencies(apps) -> None:
    # a chain (each step waits for the previous future) and a fan-in over futures
    chained = apps.add(apps.add(apps.double(1), apps.double(2)), 10)
    assert chained.result(timeout=60) == 16
    parts = [apps.double(i) for i in range(5)]
    assert apps.sum_all(*parts).result(timeout=60) == sum(2 * i for i in range(5))


def test_file_dataflow_between_bash_and_python(apps, tmp_path: Path) -> None:
    from parsl.data_provider.files import File

    target = File(str(tmp_path / "words.txt"))
    writer = apps.shell(f"printf 'one two three\\nfour\\n' > {target.filepath}", outputs=[target])
    counted = apps.word_count(inputs=[writer.outputs[0]])
    assert counted.result(timeout=60) == 4
