"""EnTK: a pipeline of stages on a local pilot. Stages run in order; tasks within a stage run
concurrently. One pipeline of three stages proves both (2 x 4 stages took ~46 s here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_harness.suites.rp_util import pilot_scope


@pytest.fixture(scope="module")
def finished_pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    import radical.entk as re

    workdir = tmp_path_factory.mktemp("entk")
    log = workdir / "order.txt"

    def task(name: str, command: str) -> re.Task:
        t = re.Task()
        t.name = name
        t.executable = "/bin/sh"
        t.arguments = ["-c", command]
        return t

    pipeline = re.Pipeline()
    pipeline.name = "sdk"
    first = re.Stage()
    first.add_tasks(task("produce", f"echo produce >> {log}"))
    middle = re.Stage()
    for i in range(2):  # both must see the first stage's line
        middle.add_tasks(task(f"consume{i}", f"grep -q produce {log} && echo consume{i} >> {log}"))
    last = re.Stage()
    last.add_tasks(task("finish", f"test $(grep -c consume {log}) -eq 2 && echo finish >> {log}"))
    pipeline.add_stages([first, middle, last])

    with pilot_scope(workdir):
        manager = re.AppManager(autoterminate=True)
        manager.resource_desc = {"resource": "local.localhost", "walltime": 15, "cpus": 2}
        manager.workflow = [pipeline]
        manager.run()
    return {"re": re, "pipeline": pipeline, "stages": [first, middle, last], "log": log, "workdir": workdir}


def test_pipeline_completes(finished_pipeline: dict) -> None:
    re, pipeline = finished_pipeline["re"], finished_pipeline["pipeline"]
    assert pipeline.state == re.states.DONE, pipeline.state
    for stage in finished_pipeline["stages"]:
        assert stage.state == re.states.DONE
        for task in stage.tasks:
            assert task.state == re.states.DONE, f"{task.name}: {task.state}"


def test_stages_run_in_order(finished_pipeline: dict) -> None:
    lines = Path(finished_pipeline["log"]).read_text().split()
    assert lines[0] == "produce"
    assert sorted(lines[1:3]) == ["consume0", "consume1"]
    assert lines[3:] == ["finish"]


def test_session_files_stay_in_the_sandbox(finished_pipeline: dict) -> None:
    workdir = Path(finished_pipeline["workdir"])
    assert list(workdir.glob("re.session.*")), f"no EnTK session directory in {workdir}"
