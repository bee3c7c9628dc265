"""RADICAL-Pilot launching its tasks through Flux: a user resource config (in the sandboxed
$HOME) derives ``local.localhost_flux`` from ``local.localhost`` with the FLUX launch method."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from test_harness.suites.flux_util import import_flux
from test_harness.suites.rp_util import working_directory

RESOURCE = "local.localhost_flux"


@pytest.fixture(scope="module")
def rp_flux(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import_flux()
    import radical.pilot as rp

    configs = Path(os.environ["HOME"]) / ".radical" / "pilot" / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    (configs / "resource_local.json").write_text(json.dumps({"localhost_flux": {
        "description": "local machine, tasks launched by Flux (ExaWorks SDK harness)",
        "default_schema": "local",
        "schemas": {"local": {"job_manager_endpoint": "fork://localhost/",
                              "filesystem_endpoint": "file://localhost/"}},
        "default_remote_workdir": "$HOME",
        "resource_manager": "FORK",
        "agent_scheduler": "CONTINUOUS",
        "agent_spawner": "POPEN",
        "launch_methods": {"order": ["FLUX"], "FLUX": {}},
        "rp_version": "installed",
        "virtenv_mode": "local",
        "python_dist": "default",
        "cores_per_node": 2,
        "gpus_per_node": 0,
        "fake_resources": True,
    }}))
    with working_directory(tmp_path_factory.mktemp("rp-flux")):
        session = rp.Session()
        try:
            pmgr = rp.PilotManager(session=session)
            tmgr = rp.TaskManager(session=session)
            pilot = pmgr.submit_pilots(rp.PilotDescription(
                {"resource": RESOURCE, "cores": 2, "runtime": 15, "exit_on_error": False}))
            tmgr.add_pilots(pilot)
            pilot.wait(state=[rp.PMGR_ACTIVE, *rp.FINAL], timeout=240)
            yield {"rp": rp, "pilot": pilot, "tmgr": tmgr}
        finally:
            session.close(terminate=True, download=False)


def test_pilot_active_with_flux(rp_flux: dict[str, Any]) -> None:
    assert rp_flux["pilot"].state == rp_flux["rp"].PMGR_ACTIVE


def test_tasks_are_flux_jobs(rp_flux: dict[str, Any]) -> None:
    rp, tmgr = rp_flux["rp"], rp_flux["tmgr"]
    tasks = tmgr.submit_tasks([rp.TaskDescription({"executable": "/bin/sh",
                                                   "arguments": ["-c", "echo job=$FLUX_JOB_ID"]})
                               for _ in range(3)])
    tmgr.wait_tasks(uids=[t.uid for t in tasks], timeout=240)
    for task in tasks:
        assert task.state == rp.DONE, f"{task.uid}: {task.state} {task.stderr}"
        line = task.stdout.strip()
        assert line.startswith("job=") and len(line) > len("job="), f"not launched by Flux: {line!r}"
